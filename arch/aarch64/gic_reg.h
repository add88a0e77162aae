/*
 * Arm Generic Interrupt Controller register layouts, with the specs' own
 * names: GICv2 (IHI 0048B, "ARM Generic Interrupt Controller Architecture
 * Specification v2.0", 4.1 register maps), the GICv2m MSI frame (Arm
 * Server Base System Architecture, appendix "GICv2m"), GICv3 (IHI 0069,
 * "GIC Architecture Specification v3 and v4": 12.8 distributor, 12.10
 * redistributor, 12.19 ITS, 12.2 CPU interface system registers, 5.3 ITS
 * commands). Driver state lives in gicv2.c, gicv3.c and gicv3_its.c.
 */
#ifndef NOOS_AARCH64_GIC_REG_H
#define NOOS_AARCH64_GIC_REG_H

/* INTID ranges (GICv3 2.2): SGIs 0-15, PPIs 16-31, SPIs 32-1019, special 1020-1023, LPIs 8192+. */
#define GIC_SGI_COUNT     16
#define GIC_SPI_FIRST     32
#define GIC_SPI_LIMIT     1020
#define GIC_INTID_SPECIAL 1020 /* 1020-1023: no interrupt to deliver (1023: spurious) */
#define GIC_LPI_FIRST     8192

/* ---- distributor, common to v2 and v3 (IHI 0048B 4.3, IHI 0069 12.9) ---- */
#define GICD_CTLR       0x0000
#define GICD_TYPER      0x0004
#define GICD_IGROUPR    0x0080 /* 1 bit per INTID */
#define GICD_ISENABLER  0x0100 /* 1 bit per INTID */
#define GICD_ICENABLER  0x0180
#define GICD_ICPENDR    0x0280
#define GICD_ICACTIVER  0x0380
#define GICD_IPRIORITYR 0x0400 /* 1 byte per INTID */
#define GICD_ITARGETSR  0x0800 /* v2: 1 byte per INTID, a CPU interface bit mask */
#define GICD_ICFGR      0x0c00 /* 2 bits per INTID; bit 1 of the pair set = edge-triggered */
#define GICD_SGIR       0x0f00 /* v2 */
#define GICD_IROUTER    0x6000 /* v3: 64 bits per INTID (SPIs only), affinity routing */
#define GICD_PIDR2      0xffe8 /* v3: ArchRev in bits [7:4] */

#define GICD_TYPER_ITLINES(t)   ((t)&0x1f) /* lines = 32 * (ITLinesNumber + 1) */
#define GICD_TYPER_IDBITS(t)    ((((t) >> 19) & 0x1f) + 1)
#define GICD_TYPER_LPIS         (1u << 17)
#define GICD_CTLR_ENABLE        (1u << 0)  /* v2: forward interrupts to CPU interfaces */
#define GICD_CTLR_ENABLE_G1     (1u << 0)  /* v3, one security state: EnableGrp0 ... */
#define GICD_CTLR_ENABLE_G1A    (1u << 1)  /* ... EnableGrp1 (Non-secure view: EnableGrp1A) */
#define GICD_CTLR_ARE_NS        (1u << 4)  /* affinity routing */
#define GICD_CTLR_RWP           (1u << 31) /* a register write is still taking effect */
#define GICD_SGIR_TARGET_LIST   (0u << 24)
#define GICD_SGIR_CPU_SHIFT     16
#define GICD_IROUTER_AFF(aff32) ((uint64_t)((aff32)&0xffffff) | (uint64_t)((aff32) >> 24) << 32)
#define GIC_PRIORITY_DEFAULT    0xa0 /* every line the same: no preemption among them */
#define GIC_PRIORITY_MASK_ALL   0xff /* PMR: let every priority through */

/* ---- GICv2 CPU interface (IHI 0048B 4.4) ---- */
#define GICC_CTLR        0x0000
#define GICC_PMR         0x0004
#define GICC_BPR         0x0008
#define GICC_IAR         0x000c
#define GICC_EOIR        0x0010
#define GICC_CTLR_ENABLE (1u << 0) /* EOImode 0: the EOIR write also deactivates */
#define GICC_IAR_INTID   0x3ff     /* bits [12:10] name the sender of an SGI */

/* ---- GICv2m MSI frame (SBSA appendix: V2M_MSI_TYPER, V2M_MSI_SETSPI_NS) ---- */
#define V2M_MSI_TYPER           0x008
#define V2M_MSI_SETSPI_NS       0x040 /* a device writes the SPI's INTID here */
#define V2M_MSI_TYPER_BASE(t)   (((t) >> 16) & 0x3ff)
#define V2M_MSI_TYPER_NUMBER(t) ((t)&0x3ff)
#define V2M_FRAME_SIZE          0x1000

/* ---- GICv3 redistributor (IHI 0069 12.10): RD_base frame, then SGI_base 64 KiB above ---- */
#define GICR_CTLR             0x0000
#define GICR_TYPER            0x0008 /* 64-bit */
#define GICR_WAKER            0x0014
#define GICR_PROPBASER        0x0070 /* 64-bit */
#define GICR_PENDBASER        0x0078 /* 64-bit */
#define GICR_SGI_BASE         0x10000
#define GICR_FRAME_SIZE       0x20000 /* RD_base + SGI_base */
#define GICR_FRAME_SIZE_VLPI  0x40000 /* GICv4: two more frames for virtual LPIs */
#define GICR_CTLR_ENABLE_LPIS (1u << 0)
#define GICR_CTLR_RWP         (1u << 3)
#define GICR_TYPER_PLPIS      (1ull << 0)
#define GICR_TYPER_VLPIS      (1ull << 1)
#define GICR_TYPER_LAST       (1ull << 4)
#define GICR_TYPER_PROCNUM(t) (((t) >> 8) & 0xffff)
#define GICR_TYPER_AFF(t)     ((uint32_t)((t) >> 32)) /* Aff3.Aff2.Aff1.Aff0 */
#define GICR_WAKER_SLEEP      (1u << 1)               /* ProcessorSleep */
#define GICR_WAKER_ASLEEP     (1u << 2)               /* ChildrenAsleep */
/* In SGI_base: the banked SGI/PPI registers, laid out as the distributor's first 32 INTIDs. */
#define GICR_IGROUPR0    0x0080
#define GICR_ISENABLER0  0x0100
#define GICR_ICENABLER0  0x0180
#define GICR_IPRIORITYR0 0x0400
#define GICR_ICFGR0      0x0c00

/*
 * Memory attributes of the tables the GIC reads: Normal Inner Write-Back
 * Read/Write-Allocate (InnerCache 0b101; bits [9:7] in GICR_PROPBASER and
 * GICR_PENDBASER, [61:59] in GITS_BASER and GITS_CBASER), Inner Shareable
 * (Shareability bits [11:10] in all four). An ITS that cannot snoop the
 * caches reads the Shareability back as 0 (12.19.x): then the driver cleans
 * what it writes to the point of coherency.
 */
#define GICR_BASER_INNER_WBWA    (5ull << 7)
#define GITS_BASER_INNER_WBWA    (5ull << 59)
#define GIC_BASER_INNER_SH       (1ull << 10)
#define GIC_BASER_SH_MASK        (3ull << 10)
#define GICR_PROPBASER_IDBITS(n) ((uint64_t)(n)-1)
#define GICR_PENDBASER_PTZ       (1ull << 62) /* the pending table is all zeroes */

/* ---- GICv3 ITS (IHI 0069 12.19) ---- */
#define GITS_CTLR              0x0000
#define GITS_TYPER             0x0008 /* 64-bit */
#define GITS_CBASER            0x0080 /* 64-bit */
#define GITS_CWRITER           0x0088 /* 64-bit */
#define GITS_CREADR            0x0090 /* 64-bit */
#define GITS_BASER(n)          (0x0100 + 8 * (n))
#define GITS_BASER_COUNT       8
#define GITS_TRANSLATER        0x10040 /* in the translation frame, 64 KiB above the control frame */
#define GITS_SIZE              0x20000
#define GITS_CTLR_ENABLED      (1u << 0)
#define GITS_CTLR_QUIESCENT    (1u << 31)
#define GITS_TYPER_PHYSICAL    (1ull << 0)
#define GITS_TYPER_ITT_SIZE(t) ((unsigned)(((t) >> 4) & 0xf) + 1)
#define GITS_TYPER_IDBITS(t)   ((unsigned)(((t) >> 8) & 0x1f) + 1)
#define GITS_TYPER_DEVBITS(t)  ((unsigned)(((t) >> 13) & 0x1f) + 1)
#define GITS_TYPER_PTA         (1ull << 19) /* RDbase is a physical address, not a number */
#define GITS_TYPER_HCC(t)      ((unsigned)(((t) >> 24) & 0xff))
#define GITS_CBASER_VALID      (1ull << 63)
#define GITS_CREADR_STALLED    (1ull << 0)
#define GITS_BASER_VALID       (1ull << 63)
#define GITS_BASER_INDIRECT    (1ull << 62)
#define GITS_BASER_TYPE(b)     ((unsigned)(((b) >> 56) & 7))
#define GITS_BASER_ENTRY(b)    ((unsigned)(((b) >> 48) & 0x1f) + 1)
#define GITS_BASER_PAGE_MASK   (3ull << 8)
#define GITS_BASER_PAGE_4K     (0ull << 8)
#define GITS_BASER_TYPE_DEVICE 1
#define GITS_BASER_TYPE_COLL   4
#define GITS_L1_VALID          (1ull << 63) /* a level 1 entry of an indirect table */

/* ITS commands (5.3): 32 bytes, the command number in bits [7:0] of the first doubleword. */
#define GITS_CMD_SIZE    32
#define GITS_CMD_MOVI    0x01
#define GITS_CMD_SYNC    0x05
#define GITS_CMD_MAPD    0x08
#define GITS_CMD_MAPC    0x09
#define GITS_CMD_MAPTI   0x0a
#define GITS_CMD_INV     0x0c
#define GITS_CMD_DISCARD 0x0f
#define GITS_VALID       (1ull << 63) /* MAPD / MAPC: map (set) rather than unmap */

/* LPI configuration table entry (5.1.1): priority in [7:2], bit 1 RES1, enable in bit 0. */
#define LPI_PROP_ENABLE 0x01
#define LPI_PROP_RES1   0x02

/* ---- GICv3 CPU interface system registers (12.2), as S<op0>_<op1>_<Cn>_<Cm>_<op2> ---- */
#define ICC_PMR_EL1     "s3_0_c4_c6_0"
#define ICC_IAR1_EL1    "s3_0_c12_c12_0"
#define ICC_EOIR1_EL1   "s3_0_c12_c12_1"
#define ICC_BPR1_EL1    "s3_0_c12_c12_3"
#define ICC_CTLR_EL1    "s3_0_c12_c12_4"
#define ICC_SRE_EL1     "s3_0_c12_c12_5"
#define ICC_IGRPEN1_EL1 "s3_0_c12_c12_7"
#define ICC_SGI1R_EL1   "s3_0_c12_c11_5"
#define ICC_SRE_SRE     (1u << 0)
#define ICC_SRE_DFB     (1u << 1)
#define ICC_SRE_DIB     (1u << 2)
#define ICC_IAR1_INTID  0xffffff
/* ICC_SGI1R_EL1 (12.2.23): a target list of Aff0 values 16 * RS .. 16 * RS + 15 in one Aff1..3. */
#define ICC_SGI1R_AFF1_SHIFT  16
#define ICC_SGI1R_INTID_SHIFT 24
#define ICC_SGI1R_AFF2_SHIFT  32
#define ICC_SGI1R_RS_SHIFT    44
#define ICC_SGI1R_AFF3_SHIFT  48

#endif
