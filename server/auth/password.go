package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"evidock"
)

// Params are the cost of argon2id: passes over memory, memory in KiB, and
// threads.
type Params struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// DefaultParams are OWASP's minimum for argon2id (19 MiB, 2 passes, 1
// thread): about 30 ms a hash on a server core. The per-login and per-address
// limits on failures (Policy), not the cost alone, keep guessing slow.
var DefaultParams = Params{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// TestParams are cheap parameters for tests, which hash many passwords;
// never for stored passwords.
var TestParams = Params{Time: 1, MemoryKiB: 64, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// MinPasswordLen and MaxPasswordLen bound a password, in characters and
// bytes: long enough to resist guessing, short enough that hashing a
// hostile one costs no more than any other.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 1024
)

// ValidatePassword returns EINVALID unless pw is UTF-8 of at least
// MinPasswordLen characters and at most MaxPasswordLen bytes.
func ValidatePassword(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return evidock.Errorf(evidock.EINVALID, "password is not UTF-8 text")
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return evidock.Errorf(evidock.EINVALID, "password is shorter than %d characters: choose a longer one, a phrase of several words is easy to remember", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return evidock.Errorf(evidock.EINVALID, "password is longer than %d bytes", MaxPasswordLen)
	}
	return nil
}

// HashPassword returns pw hashed with argon2id under a fresh random salt,
// in the PHC string form $argon2id$v=19$m=M,t=T,p=P$salt$hash, which holds
// everything VerifyPassword needs. It returns EINVALID for a password
// ValidatePassword refuses, and an error if the random source fails.
func HashPassword(pw string, p Params) (string, error) {
	if err := ValidatePassword(pw); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// maxStoredMemoryKiB bounds the memory a stored hash may ask for, so that a
// corrupted row cannot make a login allocate gigabytes.
const maxStoredMemoryKiB = 1 << 20

// VerifyPassword reports whether pw is the password encoded hashes, in
// constant time for a given hash. It returns an error only if encoded is not
// an argon2id hash this package wrote.
func VerifyPassword(encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, fmt.Errorf("verify password: the stored hash is not an argon2id v=%d hash", argon2.Version)
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil ||
		p.Time == 0 || p.Threads == 0 || p.MemoryKiB == 0 || p.MemoryKiB > maxStoredMemoryKiB {
		return false, fmt.Errorf("verify password: the stored hash has unusable parameters %q", parts[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("verify password: the stored salt is not base64")
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, fmt.Errorf("verify password: the stored hash is not base64")
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
