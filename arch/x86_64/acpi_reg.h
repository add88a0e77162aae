/*
 * ACPI table layouts noos reads, as byte offsets (ACPI 6.5 specification,
 * chapter 5.2). Tables are read field by field at these offsets, never cast
 * to packed structures, so a table from a hostile or buggy firmware cannot
 * make the parser read past what it checked.
 */
#ifndef NOOS_ACPI_REG_H
#define NOOS_ACPI_REG_H

/* Root System Description Pointer, 5.2.5.3. */
#define RSDP_SIGNATURE     "RSD PTR "
#define RSDP_V1_LENGTH     20 /* checksum covers these bytes */
#define RSDP_OFF_REVISION  15
#define RSDP_OFF_RSDT      16 /* u32 */
#define RSDP_OFF_LENGTH    20 /* u32, revision >= 2 */
#define RSDP_OFF_XSDT      24 /* u64, revision >= 2 */
#define RSDP_V2_MIN_LENGTH 36 /* extended checksum covers Length bytes */

/* Where the RSDP may be on a BIOS machine, 5.2.5.1. */
#define BIOS_EBDA_SEG_PTR 0x40e /* u16 real-mode segment of the EBDA */
#define BIOS_EBDA_SCAN    1024  /* first KiB of the EBDA */
#define BIOS_ROM_START    0xe0000
#define BIOS_ROM_END      0x100000
#define RSDP_ALIGN        16

/* System Description Table Header, 5.2.6. */
#define SDT_HEADER_LENGTH 36
#define SDT_OFF_LENGTH    4 /* u32, whole table including the header */

/* MADT ("APIC"), 5.2.12. */
#define MADT_SIGNATURE        "APIC"
#define MADT_OFF_LAPIC_ADDR   36 /* u32 */
#define MADT_OFF_FLAGS        40 /* u32 */
#define MADT_OFF_ENTRIES      44
#define MADT_FLAG_PCAT_COMPAT 1 /* dual 8259 PICs present: mask them */

/* Interrupt Controller Structure types and their minimum lengths. */
#define MADT_LAPIC          0 /* 5.2.12.2: u8 uid, u8 apic id, u32 flags */
#define MADT_LAPIC_LEN      8
#define MADT_IOAPIC         1 /* 5.2.12.3: u8 id, u8 res, u32 address, u32 gsi base */
#define MADT_IOAPIC_LEN     12
#define MADT_ISO            2 /* 5.2.12.5: u8 bus, u8 source, u32 gsi, u16 flags */
#define MADT_ISO_LEN        10
#define MADT_LAPIC_NMI      4 /* 5.2.12.7: u8 uid, u16 flags, u8 lint */
#define MADT_LAPIC_NMI_LEN  6
#define MADT_LAPIC_ADDR     5 /* 5.2.12.8: u16 res, u64 address */
#define MADT_LAPIC_ADDR_LEN 12
#define MADT_X2APIC         9 /* 5.2.12.12: u16 res, u32 x2apic id, u32 flags, u32 uid */
#define MADT_X2APIC_LEN     16
#define MADT_X2APIC_NMI     10 /* 5.2.12.13: u16 flags, u32 uid, u8 lint */
#define MADT_X2APIC_NMI_LEN 12
#define MADT_CPU_ENABLED    1 /* Local APIC Flags bit 0 */

/* MCFG (PCI Firmware Specification 3.0, 4.1.2): 8 reserved bytes, then 16-byte entries. */
#define MCFG_SIGNATURE   "MCFG"
#define MCFG_OFF_ENTRIES 44
#define MCFG_ENTRY_LEN   16 /* u64 base, u16 segment, u8 start bus, u8 end bus, u32 res */

/* FADT ("FACP"), 5.2.9. Fields past a table's Length are absent (older revisions). */
#define FADT_SIGNATURE        "FACP"
#define FADT_OFF_PM_TMR_BLK   76  /* u32 I/O port */
#define FADT_OFF_PM_TMR_LEN   91  /* u8, 4 when the timer exists */
#define FADT_OFF_CENTURY      108 /* u8 CMOS index of the century, 0 if none */
#define FADT_OFF_BOOT_ARCH    109 /* u16 IA-PC Boot Architecture Flags, 5.2.9.3 */
#define FADT_OFF_FLAGS        112 /* u32 Fixed Feature Flags */
#define FADT_OFF_X_PM_TMR     208 /* Generic Address Structure, 12 bytes */
#define FADT_BOOT_NO_CMOS_RTC (1u << 5)
#define FADT_FLAG_TMR_VAL_EXT (1u << 8)  /* the PM timer is 32 bits wide, not 24 */
#define FADT_FLAG_HW_REDUCED  (1u << 20) /* no PM timer, no fixed hardware */
#define GAS_SPACE_IO          1          /* Generic Address Structure, 5.2.3.2 */

#endif
