package protocol

import "hash/crc32"

// CRC16 returns the CRC-16/CCITT-FALSE (also catalogued as CRC-16/IBM-3740)
// of b: polynomial 0x1021, initial value 0xFFFF, no reflection, no final
// XOR. Its check value, the CRC of the ASCII bytes "123456789", is 0x29B1.
// It guards frame headers, so that a corrupted length is caught before the
// receiver waits for a payload that will never come.
func CRC16(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range b {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^c]
	}
	return crc
}

// crc16Table holds the CRC of every byte value, MSB first.
var crc16Table = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()

// CRC32 returns the CRC-32/ISO-HDLC of b, the one of Ethernet, zlib and
// hash/crc32.ChecksumIEEE: polynomial 0x04C11DB7 (0xEDB88320 reflected),
// initial value 0xFFFFFFFF, reflected in and out, final XOR 0xFFFFFFFF. Its
// check value, the CRC of the ASCII bytes "123456789", is 0xCBF43926.
func CRC32(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
