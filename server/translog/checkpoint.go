package translog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"evidock"
)

// Checkpoint is the state of the log at one size: what a signed checkpoint
// says.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   evidock.LogHash
}

// Text returns the checkpoint's C2SP body: origin, size and base64 root, each
// followed by a line feed.
func (c Checkpoint) Text() []byte {
	return []byte(c.Origin + "\n" + strconv.FormatInt(c.Size, 10) + "\n" + c.Root.String() + "\n")
}

// ParseCheckpoint parses a checkpoint body as Text writes it. It returns
// EINVALID for anything else, extension lines included: this log writes
// none.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	var c Checkpoint
	lines := strings.Split(string(text), "\n")
	if len(lines) != 4 || lines[3] != "" {
		return c, evidock.Errorf(evidock.EINVALID, "checkpoint: want three lines (origin, size, root hash), each ending in a line feed")
	}
	c.Origin = lines[0]
	if c.Origin == "" {
		return c, evidock.Errorf(evidock.EINVALID, "checkpoint: origin is empty")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return c, evidock.Errorf(evidock.EINVALID, "checkpoint: size %q is not a tree size", lines[1])
	}
	c.Size = n
	if c.Root, err = evidock.ParseLogHash(lines[2]); err != nil {
		return c, evidock.Errorf(evidock.EINVALID, "checkpoint: root: %s", evidock.ErrorMessage(err))
	}
	return c, nil
}

// SignCheckpoint returns c as a note signed by signer. It returns an error
// if c's origin is not the signer's name.
func SignCheckpoint(signer note.Signer, c Checkpoint) ([]byte, error) {
	if c.Origin != signer.Name() {
		return nil, fmt.Errorf("sign checkpoint: origin %q is not the key's name %q", c.Origin, signer.Name())
	}
	msg, err := note.Sign(&note.Note{Text: string(c.Text())}, signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	return msg, nil
}

// OpenCheckpoint verifies that signed is a checkpoint signed by the key
// vkey, whose origin is the key's name, and returns it. It returns
// EINVALID for an unusable vkey and EUNVERIFIED for a note that is not
// signed by that key, whose signature fails, or whose text is not a
// checkpoint of that origin.
func OpenCheckpoint(vkey string, signed []byte) (Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return Checkpoint{}, evidock.WrapError(evidock.EINVALID, err, "log verifier key is not a note verifier key (name+hash+key): %v", err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &invalid):
			return Checkpoint{}, evidock.WrapError(evidock.EUNVERIFIED, err, "checkpoint: the signature of %s does not verify: the checkpoint was altered or forged", invalid.Name)
		case errors.As(err, &unverified):
			return Checkpoint{}, evidock.WrapError(evidock.EUNVERIFIED, err, "checkpoint: not signed by the log key %s", keyID(v))
		}
		return Checkpoint{}, evidock.WrapError(evidock.EUNVERIFIED, err, "checkpoint: not a signed note: %v", err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, evidock.WrapError(evidock.EUNVERIFIED, err, "%s", evidock.ErrorMessage(err))
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, evidock.Errorf(evidock.EUNVERIFIED, "checkpoint: origin %q is not the log key's name %q", c.Origin, v.Name())
	}
	return c, nil
}

// keyID names a key by its name and hash, as note signatures do.
func keyID(v note.Verifier) string { return fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash()) }
