package agent

import (
	"encoding/base64"
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

// fileSums returns the BLAKE3 of f's bytes from its start, their length
// and, when partSize is positive, the base64 CRC32C of each partSize part,
// which the object store checks on arrival, so that the upload reads the
// file only to send it. It returns the first read error.
func fileSums(f io.ReaderAt, partSize int64) (evidock.Digest, []string, int64, error) {
	if partSize <= 0 {
		partSize = 1<<63 - 1
	}
	h := evidock.NewHasher()
	var (
		crcs          []string
		crc           uint32
		total, inPart int64
	)
	// Reading ahead on another goroutine was measured no faster from the
	// page cache, and slower for many small files.
	bp := evidock.ReadBuffers.Get().(*[]byte)
	defer evidock.ReadBuffers.Put(bp)
	buf := *bp
	for {
		n, err := f.ReadAt(buf, total)
		b := buf[:n]
		h.Write(b)
		for len(b) > 0 {
			k := min(int64(len(b)), partSize-inPart)
			crc = crc32.Update(crc, castagnoli, b[:k])
			b, inPart = b[k:], inPart+k
			if inPart == partSize {
				crcs, crc, inPart = append(crcs, crcString(crc)), 0, 0
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
	if inPart > 0 || total == 0 {
		crcs = append(crcs, crcString(crc))
	}
	return h.Digest(), crcs, total, nil
}

func crcString(sum uint32) string {
	return base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)
