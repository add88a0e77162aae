/*
 * Virtio over PCI register layouts, virtio 1.2 §4.1, with the spec's names.
 * Everything is little-endian (legacy: guest-endian, which is little on both
 * of noos's arches).
 */
#ifndef NOOS_VIRTIO_PCI_REG_H
#define NOOS_VIRTIO_PCI_REG_H

/* §4.1.2: vendor 0x1af4; 0x1000..0x103f transitional, 0x1040 + device type modern. */
#define VIRTIO_PCI_VENDOR            0x1af4
#define VIRTIO_PCI_DEVICE_FIRST      0x1000
#define VIRTIO_PCI_DEVICE_LAST       0x107f
#define VIRTIO_PCI_TRANSITIONAL_LAST 0x103f
#define VIRTIO_PCI_MODERN_BASE       0x1040

/*
 * struct virtio_pci_cap, §4.1.4: a vendor-specific PCI capability (cap_vndr
 * 0x09) locating one structure inside a BAR.
 */
#define VIRTIO_PCI_CAP_CFG_TYPE 3  /* u8 cfg_type */
#define VIRTIO_PCI_CAP_BAR      4  /* u8 bar: 0..5, other values reserved */
#define VIRTIO_PCI_CAP_ID       5  /* u8 id: several of one type */
#define VIRTIO_PCI_CAP_OFFSET   8  /* le32 offset within the BAR */
#define VIRTIO_PCI_CAP_LENGTH   12 /* le32 length of the structure */
#define VIRTIO_PCI_CAP_LEN      16 /* sizeof(struct virtio_pci_cap) */
/* struct virtio_pci_notify_cap, §4.1.4.4: the cap plus le32 notify_off_multiplier. */
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16
#define VIRTIO_PCI_NOTIFY_CAP_LEN  20

/* cfg_type values, §4.1.4. */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* struct virtio_pci_common_cfg, §4.1.4.3. */
#define VIRTIO_PCI_COMMON_DFSELECT      0x00 /* le32 device_feature_select */
#define VIRTIO_PCI_COMMON_DF            0x04 /* le32 device_feature, read-only */
#define VIRTIO_PCI_COMMON_GFSELECT      0x08 /* le32 driver_feature_select */
#define VIRTIO_PCI_COMMON_GF            0x0c /* le32 driver_feature */
#define VIRTIO_PCI_COMMON_MSIX          0x10 /* le16 config_msix_vector */
#define VIRTIO_PCI_COMMON_NUMQ          0x12 /* le16 num_queues, read-only */
#define VIRTIO_PCI_COMMON_STATUS        0x14 /* u8 device_status */
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15 /* u8 config_generation, read-only */
#define VIRTIO_PCI_COMMON_Q_SELECT      0x16 /* le16 queue_select */
#define VIRTIO_PCI_COMMON_Q_SIZE        0x18 /* le16 queue_size */
#define VIRTIO_PCI_COMMON_Q_MSIX        0x1a /* le16 queue_msix_vector */
#define VIRTIO_PCI_COMMON_Q_ENABLE      0x1c /* le16 queue_enable */
#define VIRTIO_PCI_COMMON_Q_NOFF        0x1e /* le16 queue_notify_off, read-only */
#define VIRTIO_PCI_COMMON_Q_DESCLO      0x20 /* le64 queue_desc */
#define VIRTIO_PCI_COMMON_Q_DESCHI      0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO     0x28 /* le64 queue_driver */
#define VIRTIO_PCI_COMMON_Q_AVAILHI     0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO      0x30 /* le64 queue_device */
#define VIRTIO_PCI_COMMON_Q_USEDHI      0x34
#define VIRTIO_PCI_COMMON_CFG_MIN_LEN   0x38 /* the fields above: all a 1.0 device has */

/* §4.1.4.3 / §4.1.5.1.2: "no MSI-X vector" in config_msix_vector and queue_msix_vector. */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* §4.1.4.4: each queue notifies by a 16-bit write of its index. */
#define VIRTIO_PCI_NOTIFY_WIDTH 2

/* Legacy interface, §4.1.4.10 (struct virtio_pci_legacy header in I/O BAR 0). */
#define VIRTIO_PCI_LEGACY_HOST_FEATURES  0x00 /* le32 */
#define VIRTIO_PCI_LEGACY_GUEST_FEATURES 0x04 /* le32 */
#define VIRTIO_PCI_LEGACY_QUEUE_PFN      0x08 /* le32: physical address >> 12 */
#define VIRTIO_PCI_LEGACY_QUEUE_NUM      0x0c /* le16, read-only */
#define VIRTIO_PCI_LEGACY_QUEUE_SEL      0x0e /* le16 */
#define VIRTIO_PCI_LEGACY_QUEUE_NOTIFY   0x10 /* le16 */
#define VIRTIO_PCI_LEGACY_STATUS         0x12 /* u8 */
#define VIRTIO_PCI_LEGACY_ISR            0x13 /* u8, read clears */
#define VIRTIO_PCI_LEGACY_MSIX_CONFIG    0x14 /* le16, only while MSI-X is enabled */
#define VIRTIO_PCI_LEGACY_MSIX_QUEUE     0x16 /* le16, only while MSI-X is enabled */
#define VIRTIO_PCI_LEGACY_CONFIG         0x14 /* device config without MSI-X... */
#define VIRTIO_PCI_LEGACY_CONFIG_MSIX    0x18 /* ...and with it */
#define VIRTIO_PCI_LEGACY_PFN_SHIFT      12
#define VIRTIO_PCI_LEGACY_ALIGN          4096 /* §2.7 legacy "Virtqueue Layout" alignment */

#endif
