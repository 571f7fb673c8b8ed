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
	"sync"

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
		parts  []partSums
		crc    uint32
		sha    hash.Hash
		inPart int64
	)
	if partSize > 0 {
		sha = sha256.New()
	}
	endPart := func() {
		parts = append(parts, partSums{crc32c: crcString(crc), sha256: hex.EncodeToString(sha.Sum(nil))})
		crc, inPart = 0, 0
		sha.Reset()
	}
	total, err := readAll(f, func(b []byte) {
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
	})
	if err != nil {
		return evidock.Digest{}, nil, total, err
	}
	if partSize > 0 && (inPart > 0 || total == 0) {
		endPart()
	}
	return h.Digest(), parts, total, nil
}

// readAll calls fn with f's bytes in order: from a memory mapping where f
// is a file that can be mapped (see readMapped), else read ahead of fn
// (see readAhead).
func readAll(f io.ReaderAt, fn func([]byte)) (int64, error) {
	if osf, ok := f.(*os.File); ok {
		if n, mapped, err := readMapped(osf, fn); mapped {
			return n, err
		}
	}
	return readAhead(f, readAheadBuffers, fn)
}

func crcString(sum uint32) string {
	return base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// readAheadBuffers is how many buffers of evidock.ReadBuffers readAhead
// fills ahead of the hashing (with one, reading and hashing would take
// turns). With the AVX-512 hasher at about 6 GB/s, three hashed a file
// in the page cache at 5.7-5.8 GB/s where two gave 5.2-5.3 (4 MiB
// buffers did no better than three of 1 MiB).
const readAheadBuffers = 3

// readAhead reads r from its start in a goroutine, up to depth buffers of
// evidock.ReadBuffers ahead, and calls fn with each chunk in order on the
// caller's goroutine, so that reading (a copy out of the page cache, which
// can cost nearly as much as the hashing, or a wait on a disk or a
// recorder) overlaps the hashing instead of taking turns with it. It is
// what readAll falls back on for a file that cannot be mapped. fn must not keep
// the chunk. readAhead returns the bytes passed to fn and the first read
// error; nil at the end of r. When it returns, also if fn panics, the
// reading goroutine has exited and the buffers are back in the pool (but
// for the one fn panicked with).
func readAhead(r io.ReaderAt, depth int, fn func([]byte)) (int64, error) {
	type chunk struct {
		bp  *[]byte
		n   int
		err error
	}
	// Every buffer is always in free, being read into, in full, or in fn:
	// full holds them all, so the reader never blocks sending.
	free, full := make(chan *[]byte, depth), make(chan chunk, depth)
	for range depth {
		free <- evidock.ReadBuffers.Get().(*[]byte)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(full)
		var off int64
		for {
			var bp *[]byte
			select {
			case <-stop:
				return
			case bp = <-free:
			}
			n, err := r.ReadAt(*bp, off)
			off += int64(n)
			full <- chunk{bp, n, err}
			if err != nil {
				return
			}
		}
	})
	defer func() {
		close(stop)
		wg.Wait()
		for c := range full {
			free <- c.bp
		}
		close(free)
		for bp := range free {
			evidock.ReadBuffers.Put(bp)
		}
	}()
	var total int64
	for c := range full {
		fn((*c.bp)[:c.n])
		total += int64(c.n)
		free <- c.bp
		if c.err == io.EOF {
			break
		}
		if c.err != nil {
			return total, c.err
		}
	}
	return total, nil
}
