package translog

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"evidock"
)

// DefaultOrigin is the origin of a log whose operator named none. A bureau
// names its own, e.g. "evidock.bureau.example/registry", so that checkpoints
// of different registries can never be confused.
const DefaultOrigin = "evidock.example/registry"

// ValidateOrigin returns EINVALID unless origin can name a log and its key:
// not empty, UTF-8, without spaces or '+'.
func ValidateOrigin(origin string) error {
	if origin == "" || !utf8.ValidString(origin) || strings.IndexFunc(origin, unicode.IsSpace) >= 0 || strings.Contains(origin, "+") {
		return evidock.Errorf(evidock.EINVALID, "log origin %q must be a non-empty name without spaces or '+', e.g. %s", origin, DefaultOrigin)
	}
	return nil
}

// GenerateKey returns a new Ed25519 note signing key for the log named
// origin and its verifier key, which is all a verifier needs. It returns
// EINVALID for an unusable origin.
func GenerateKey(origin string) (skey, vkey string, err error) {
	if err := ValidateOrigin(origin); err != nil {
		return "", "", err
	}
	skey, vkey, err = note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", "", fmt.Errorf("generate log key: %w", err)
	}
	return skey, vkey, nil
}

// VerifierKey returns the verifier key of the note signing key skey. It
// returns EINVALID if skey is not an Ed25519 note signing key.
func VerifierKey(skey string) (string, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return "", evidock.WrapError(evidock.EINVALID, err, "log signing key is not a note signing key (PRIVATE+KEY+name+hash+key): %v", err)
	}
	// PRIVATE+KEY+<name>+<hash>+<base64 of 0x01 and the Ed25519 seed>;
	// NewSigner has checked that the hash matches the key.
	// (base64 has '+' of its own, so only the first four separate fields).
	parts := strings.SplitN(skey, "+", 5)
	b, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(b) != 1+ed25519.SeedSize || b[0] != 1 {
		return "", evidock.Errorf(evidock.EINVALID, "log signing key is not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(b[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(signer.Name(), pub)
	if err != nil {
		return "", evidock.WrapError(evidock.EINVALID, err, "log signing key: %v", err)
	}
	return vkey, nil
}

// ReadSigningKey returns the signing key in the file at path. It returns
// an error naming the file if it cannot be read, holds no signing key, or,
// outside Windows, can be read by anyone but its owner. The key itself is
// never part of an error.
func ReadSigningKey(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("log signing key: %w", err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("log signing key %s is readable by others (mode %04o): run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("log signing key: %w", err)
	}
	skey := strings.TrimSpace(string(b))
	if _, err := VerifierKey(skey); err != nil {
		return "", fmt.Errorf("log signing key %s: %s; make one with 'evidock-server log keygen'", path, evidock.ErrorMessage(err))
	}
	return skey, nil
}

// ReadVerifierKey returns the verifier key in the file at path, or an error
// naming the file if it cannot be read or holds no verifier key.
func ReadVerifierKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("log public key: %w", err)
	}
	vkey := strings.TrimSpace(string(b))
	if _, err := note.NewVerifier(vkey); err != nil {
		return "", fmt.Errorf("log public key %s does not hold a note verifier key (name+hash+key): %v", path, err)
	}
	return vkey, nil
}

// WriteKeyFiles writes skey to privPath, created with mode 0600, and vkey
// to pubPath (mode 0644), creating their directories. Neither file may
// exist yet: an existing key is never overwritten, because checkpoints it
// signed could no longer be checked. Each file is synced before the call
// returns; on error a file this call created is removed.
func WriteKeyFiles(privPath, pubPath, skey, vkey string) error {
	if privPath == pubPath {
		return evidock.Errorf(evidock.EINVALID, "log key files: the private and the public key must go to different files")
	}
	if err := writeNew(privPath, skey+"\n", 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, vkey+"\n", 0o644); err != nil {
		os.Remove(privPath)
		return err
	}
	return nil
}

func writeNew(path, content string, mode os.FileMode) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("log key: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return evidock.Errorf(evidock.ECONFLICT, "log key file %s exists already: move it away or choose another file; a key in use is never overwritten", path)
	}
	if err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("log key: write %s: %w", path, err)
	}
	return nil
}
