/*
 * virtio-mmio register layout, with the specification's own names.
 *
 * virtio 1.2 §4.2.2 "MMIO Device Register Layout" (Version 2, modern) and
 * §4.2.4 "Legacy interface" (Version 1). All registers are 32 bits wide,
 * little-endian, and the driver accesses them only with aligned 32-bit
 * reads and writes (§4.2.2.2); the device-specific configuration space at
 * 0x100 is accessed with the width of each field.
 */
#ifndef NOOS_MMIO_REG_H
#define NOOS_MMIO_REG_H

/* "virt" in little-endian: every virtio-mmio device answers this at offset 0. */
#define VIRTIO_MMIO_MAGIC 0x74726976

/* Registers common to both versions (§4.2.2, §4.2.4). */
#define VIRTIO_MMIO_MagicValue        0x000 /* R: 0x74726976 */
#define VIRTIO_MMIO_Version           0x004 /* R: 2 modern, 1 legacy */
#define VIRTIO_MMIO_DeviceID          0x008 /* R: virtio device type, 0 = placeholder slot */
#define VIRTIO_MMIO_VendorID          0x00c /* R */
#define VIRTIO_MMIO_DeviceFeatures    0x010 /* R: 32 feature bits, from word DeviceFeaturesSel */
#define VIRTIO_MMIO_DeviceFeaturesSel 0x014 /* W */
#define VIRTIO_MMIO_DriverFeatures    0x020 /* W: 32 feature bits, to word DriverFeaturesSel */
#define VIRTIO_MMIO_DriverFeaturesSel 0x024 /* W */
#define VIRTIO_MMIO_QueueSel          0x030 /* W: the queue the Queue* registers refer to */
#define VIRTIO_MMIO_QueueNumMax       0x034 /* R: largest size of the selected queue, 0 = none */
#define VIRTIO_MMIO_QueueNum          0x038 /* W: size the driver chose */
#define VIRTIO_MMIO_QueueNotify       0x050 /* W: queue index with new buffers */
#define VIRTIO_MMIO_InterruptStatus   0x060 /* R: VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG */
#define VIRTIO_MMIO_InterruptACK      0x064 /* W: the bits handled */
#define VIRTIO_MMIO_Status            0x070 /* RW: device status (§2.1); writing 0 resets */
#define VIRTIO_MMIO_Config            0x100 /* device-specific configuration space */

/* Version 2 only (§4.2.2). */
#define VIRTIO_MMIO_QueueReady       0x044 /* RW: 1 = the selected queue is live */
#define VIRTIO_MMIO_QueueDescLow     0x080 /* W: descriptor table address */
#define VIRTIO_MMIO_QueueDescHigh    0x084
#define VIRTIO_MMIO_QueueDriverLow   0x090 /* W: driver (available) ring address */
#define VIRTIO_MMIO_QueueDriverHigh  0x094
#define VIRTIO_MMIO_QueueDeviceLow   0x0a0 /* W: device (used) ring address */
#define VIRTIO_MMIO_QueueDeviceHigh  0x0a4
#define VIRTIO_MMIO_SHMSel           0x0ac /* W: shared memory region id */
#define VIRTIO_MMIO_SHMLenLow        0x0b0 /* R */
#define VIRTIO_MMIO_SHMLenHigh       0x0b4
#define VIRTIO_MMIO_SHMBaseLow       0x0b8 /* R */
#define VIRTIO_MMIO_SHMBaseHigh      0x0bc
#define VIRTIO_MMIO_QueueReset       0x0c0 /* RW: VIRTIO_F_RING_RESET */
#define VIRTIO_MMIO_ConfigGeneration 0x0fc /* R: changes when the config space changed */

/* Version 1 (legacy) only (§4.2.4). */
#define VIRTIO_MMIO_GuestPageSize 0x028 /* W: the unit of QueuePFN, before any QueuePFN */
#define VIRTIO_MMIO_QueueAlign    0x03c /* W: used ring alignment, a power of two */
#define VIRTIO_MMIO_QueuePFN      0x040 /* RW: queue's first page number; 0 = not in use */

/* Legacy names of the feature registers (§4.2.4): same offsets as version 2. */
#define VIRTIO_MMIO_HostFeatures     VIRTIO_MMIO_DeviceFeatures
#define VIRTIO_MMIO_HostFeaturesSel  VIRTIO_MMIO_DeviceFeaturesSel
#define VIRTIO_MMIO_GuestFeatures    VIRTIO_MMIO_DriverFeatures
#define VIRTIO_MMIO_GuestFeaturesSel VIRTIO_MMIO_DriverFeaturesSel

#endif
