/*
 * PCI configuration space layouts, with the specifications' names.
 *
 * PCI Local Bus Specification 3.0 (PCI 3.0), PCI-to-PCI Bridge Architecture
 * Specification 1.2 (P2P 1.2) and PCI Express Base Specification 4.0
 * (PCIe 4.0) for ECAM. Offsets are bytes into a function's configuration
 * space; everything is little-endian.
 */
#ifndef NOOS_PCI_REG_H
#define NOOS_PCI_REG_H

/* PCIe 4.0 §7.2.2 (ECAM): 4 KiB per function, 32 devices x 8 functions per bus. */
#define PCI_ECAM_BUS_SHIFT  20
#define PCI_ECAM_FUNC_SHIFT 12
#define PCI_ECAM_BUS_SIZE   (1u << PCI_ECAM_BUS_SHIFT)
#define PCI_CFG_SIZE        256 /* conventional configuration space, all this layer uses */

/* Configuration mechanism #1, PCI 3.0 §3.2.2.3.2: address at 0xcf8, data at 0xcfc. */
#define PCI_CF8_ADDRESS 0xcf8
#define PCI_CF8_DATA    0xcfc
#define PCI_CF8_ENABLE  0x80000000u

#define PCI_MAX_BUSES 256
#define PCI_MAX_DEVS  32
#define PCI_MAX_FNS   8

/* Common header, PCI 3.0 §6.1 (figure 6-1) and P2P 1.2 §3.2 (figure 3-2). */
#define PCI_VENDOR_ID           0x00 /* 16: 0xffff reads mean "no function here" */
#define PCI_DEVICE_ID           0x02 /* 16 */
#define PCI_COMMAND             0x04 /* 16 */
#define PCI_STATUS              0x06 /* 16 */
#define PCI_REVISION_ID         0x08 /* 8 */
#define PCI_CLASS_PROG          0x09 /* 8: programming interface */
#define PCI_CLASS_DEVICE        0x0a /* 16: base class << 8 | sub-class */
#define PCI_HEADER_TYPE         0x0e /* 8 */
#define PCI_BASE_ADDRESS_0      0x10 /* 32 each; six in a type 0 header, two in type 1 */
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c /* 16, type 0 only */
#define PCI_SUBSYSTEM_ID        0x2e /* 16, type 0 only */
#define PCI_CAPABILITY_LIST     0x34 /* 8: offset of the first capability */
#define PCI_INTERRUPT_LINE      0x3c /* 8: what firmware routed INTx to (x86: an ISA IRQ) */
#define PCI_INTERRUPT_PIN       0x3d /* 8: 0 none, 1..4 = INTA#..INTD# */

#define PCI_VENDOR_NONE 0xffff

/* Command register bits, PCI 3.0 §6.2.2. */
#define PCI_COMMAND_IO           0x0001
#define PCI_COMMAND_MEMORY       0x0002
#define PCI_COMMAND_MASTER       0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400

/* Status register bits, PCI 3.0 §6.2.3. */
#define PCI_STATUS_CAP_LIST 0x0010

/* Header type, PCI 3.0 §6.2.1: layout in bits 6:0, multi-function in bit 7. */
#define PCI_HEADER_TYPE_MASK     0x7f
#define PCI_HEADER_TYPE_NORMAL   0
#define PCI_HEADER_TYPE_BRIDGE   1
#define PCI_HEADER_MULTIFUNCTION 0x80

/* Base address registers, PCI 3.0 §6.2.5.1. */
#define PCI_NUM_BARS          6
#define PCI_NUM_BRIDGE_BARS   2
#define PCI_BAR_SPACE_IO      0x1
#define PCI_BAR_IO_MASK       0xfffffffcu
#define PCI_BAR_MEM_TYPE_MASK 0x6
#define PCI_BAR_MEM_TYPE_32   0x0
#define PCI_BAR_MEM_TYPE_64   0x4
#define PCI_BAR_MEM_PREFETCH  0x8
#define PCI_BAR_MEM_MASK      0xfffffff0u

/* Type 1 (PCI-to-PCI bridge) header, P2P 1.2 §3.2.5. */
#define PCI_PRIMARY_BUS        0x18 /* 8 */
#define PCI_SECONDARY_BUS      0x19 /* 8 */
#define PCI_SUBORDINATE_BUS    0x1a /* 8 */
#define PCI_IO_BASE            0x1c /* 8: address bits 15:12 in 7:4, 32-bit I/O flag in 3:0 */
#define PCI_IO_LIMIT           0x1d /* 8 */
#define PCI_MEMORY_BASE        0x20 /* 16: address bits 31:20 in 15:4 */
#define PCI_MEMORY_LIMIT       0x22 /* 16 */
#define PCI_PREF_MEMORY_BASE   0x24 /* 16: bits 31:20 in 15:4, 64-bit flag in 3:0 */
#define PCI_PREF_MEMORY_LIMIT  0x26 /* 16 */
#define PCI_PREF_BASE_UPPER32  0x28 /* 32 */
#define PCI_PREF_LIMIT_UPPER32 0x2c /* 32 */
#define PCI_IO_BASE_UPPER16    0x30 /* 16 */
#define PCI_IO_LIMIT_UPPER16   0x32 /* 16 */
#define PCI_BRIDGE_CONTROL     0x3e /* 16 */

#define PCI_BRIDGE_RANGE_TYPE_MASK 0xf
#define PCI_BRIDGE_RANGE_64        0x1       /* prefetchable window decodes 64-bit addresses */
#define PCI_BRIDGE_IO_32           0x1       /* I/O window decodes 32-bit addresses */
#define PCI_BRIDGE_IO_ALIGN        0x1000u   /* I/O window granularity, P2P 1.2 §3.2.5.6 */
#define PCI_BRIDGE_MEM_ALIGN       0x100000u /* memory windows, P2P 1.2 §3.2.5.8 */

/* Class codes, PCI Code and ID Assignment Specification 1.11. */
#define PCI_CLASS_BRIDGE_HOST 0x0600
#define PCI_CLASS_BRIDGE_PCI  0x0604

/* Capability list, PCI 3.0 §6.7: each entry starts with an ID byte and a next pointer. */
#define PCI_CAP_ID       0
#define PCI_CAP_NEXT     1
#define PCI_CAP_LIST_MIN 0x40  /* capabilities live after the standard header... */
#define PCI_CAP_LIST_END 0x100 /* ...and inside the 256-byte conventional space */
#define PCI_CAP_ID_MSI   0x05
#define PCI_CAP_ID_VNDR  0x09 /* vendor-specific: byte 2 is the capability's length */
#define PCI_CAP_ID_EXP   0x10
#define PCI_CAP_ID_MSIX  0x11

/* MSI-X capability, PCI 3.0 §6.8.2. */
#define PCI_MSIX_FLAGS         2 /* 16: Message Control */
#define PCI_MSIX_TABLE         4 /* 32: Table Offset and BIR */
#define PCI_MSIX_PBA           8 /* 32: PBA Offset and BIR */
#define PCI_MSIX_CAP_LEN       12
#define PCI_MSIX_FLAGS_QSIZE   0x07ff /* Table Size, encoded as N - 1 */
#define PCI_MSIX_FLAGS_MASKALL 0x4000
#define PCI_MSIX_FLAGS_ENABLE  0x8000
#define PCI_MSIX_BIR_MASK      0x7
#define PCI_MSIX_OFFSET_MASK   0xfffffff8u

/* MSI-X table entry, PCI 3.0 §6.8.2.6-9: 16 bytes each. */
#define PCI_MSIX_ENTRY_SIZE         16
#define PCI_MSIX_ENTRY_ADDR_LO      0
#define PCI_MSIX_ENTRY_ADDR_HI      4
#define PCI_MSIX_ENTRY_DATA         8
#define PCI_MSIX_ENTRY_VECTOR_CTRL  12
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 0x1

#endif
