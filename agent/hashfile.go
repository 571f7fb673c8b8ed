package agent

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"

	"evidock"
)

// HashFile returns the BLAKE3 and the length of f's bytes from its start,
// reading it as the agent reads a staged copy or a recording for its
// second read. It returns the first read error.
func HashFile(f *os.File) (evidock.Digest, int64, error) {
	d, _, n, err := fileSums(f, 0)
	return d, n, err
}

// secondRead hashes a recording on the recorder again, before it is
// cleared; see HashFile.
func secondRead(f fs.File) (evidock.Digest, int64, error) {
	if osf, ok := f.(*os.File); ok {
		return HashFile(osf)
	}
	return evidock.DigestOf(f)
}

// partSums are the checksums of one part of an upload, which the object
// store checks on arrival: the base64 CRC32C, and the hex SHA-256 that the
// request's signature covers (see evidock.PrecomputedChecksum).
type partSums struct {
	crc32c, sha256 string
}

// fileSums returns the BLAKE3 of f's bytes from its start, their length
// and, when partSize is positive, the checksums of each partSize part, so
// that the upload reads the file only to send it (with partSize 0 it
// computes the BLAKE3 alone: SHA-256 would cost more than BLAKE3 itself).
// It returns the first read error.
func fileSums(f io.ReaderAt, partSize int64) (evidock.Digest, []partSums, int64, error) {
	h := evidock.NewHasher()
	var (
		parts         []partSums
		crc           uint32
		sha           hash.Hash
		total, inPart int64
	)
	if partSize > 0 {
		sha = sha256.New()
	}
	endPart := func() {
		parts = append(parts, partSums{crc32c: crcString(crc), sha256: hex.EncodeToString(sha.Sum(nil))})
		crc, inPart = 0, 0
		sha.Reset()
	}
	bp := evidock.ReadBuffers.Get().(*[]byte)
	defer evidock.ReadBuffers.Put(bp)
	buf := *bp
	for {
		n, err := f.ReadAt(buf, total)
		b := buf[:n]
		h.Write(b)
		for partSize > 0 && len(b) > 0 {
			k := min(int64(len(b)), partSize-inPart)
			crc = crc32.Update(crc, castagnoli, b[:k])
			sha.Write(b[:k])
			b, inPart = b[k:], inPart+k
			if inPart == partSize {
				endPart()
			}
		}
		total += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return evidock.Digest{}, nil, total, err
		}
	}
	if partSize > 0 && (inPart > 0 || total == 0) {
		endPart()
	}
	return h.Digest(), parts, total, nil
}

func crcString(sum uint32) string {
	return base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)
