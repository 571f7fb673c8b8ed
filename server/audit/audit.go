package audit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"evidock"
)

// header starts every event's canonical text.
const header = "evidock audit event v1\n"

// eventTime is the layout of times in the canonical text.
const eventTime = "2006-01-02T15:04:05.000000Z"

// Encode returns the canonical text of e (see the package comment), over
// which its hash is computed; e.Hash is not part of it. e.Time must be in
// whole microseconds, as the stores keep it.
func Encode(e *evidock.AuditEvent) []byte {
	var b strings.Builder
	b.WriteString(header)
	line := func(name, value string) {
		b.WriteString(name)
		b.WriteByte(' ')
		b.WriteString(value)
		b.WriteByte('\n')
	}
	line("seq", strconv.FormatInt(e.Seq, 10))
	line("time", e.Time.UTC().Format(eventTime))
	line("actor", escape(e.Actor))
	line("action", escape(e.Action))
	line("object", escape(e.Object))
	line("unit", escape(e.Unit))
	line("reason", escape(e.Reason))
	line("remote_addr", escape(e.RemoteAddr))
	line("user_agent", escape(e.UserAgent))
	line("outcome", escape(e.Outcome))
	line("prev", e.PrevHash.String())
	return []byte(b.String())
}

// Hash returns the hash e should have: SHA-256 of Encode(e).
func Hash(e *evidock.AuditEvent) evidock.LogHash { return sha256.Sum256(Encode(e)) }

// MaxFieldLen bounds each text field of an event; longer values (a user
// agent is the client's to choose) are cut, so that no client can bloat the
// log.
const MaxFieldLen = 1000

// clean makes s storable in both databases (PostgreSQL text holds neither
// NUL nor invalid UTF-8) and cuts it to MaxFieldLen bytes at a character
// boundary.
func clean(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= MaxFieldLen {
		return s
	}
	n := MaxFieldLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Link makes e the event after the one numbered prevSeq whose hash is
// prevHash (0 and the zero hash for the first event): it sets e.Seq and
// e.PrevHash, truncates e.Time to microseconds (setting it to now if zero),
// cuts over-long fields, and sets e.Hash. A store calls it holding the lock
// that makes it the only appender.
func Link(e *evidock.AuditEvent, prevSeq int64, prevHash evidock.LogHash, now time.Time) {
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = e.Time.Truncate(time.Microsecond).In(evidock.ChinaTime)
	for _, f := range []*string{&e.Actor, &e.Action, &e.Object, &e.Unit, &e.Reason, &e.RemoteAddr, &e.UserAgent, &e.Outcome} {
		*f = clean(*f)
	}
	e.Seq = prevSeq + 1
	e.PrevHash = prevHash
	e.Hash = Hash(e)
}

// Chain checks events one after another, in Seq order from 1, as a store
// hands them back. The zero Chain expects event 1.
type Chain struct {
	n    int64
	head evidock.LogHash
}

// Size returns how many events the chain has checked.
func (c *Chain) Size() int64 { return c.n }

// Head returns the hash of the last event checked (the zero hash before the
// first).
func (c *Chain) Head() evidock.LogHash { return c.head }

// Add checks that e follows the events checked so far: its Seq is the next,
// its PrevHash is the last one's hash, and its Hash is the hash of its
// content. It returns EUNVERIFIED naming the event and what is wrong, and
// the chain does not advance.
func (c *Chain) Add(e *evidock.AuditEvent) error {
	switch {
	case e.Seq != c.n+1:
		return evidock.Errorf(evidock.EUNVERIFIED, "audit event %d: found where event %d should be: events were removed or renumbered", e.Seq, c.n+1)
	case e.PrevHash != c.head:
		return evidock.Errorf(evidock.EUNVERIFIED, "audit event %d: its prev_hash is not the hash of event %d: an event was changed, removed or inserted", e.Seq, c.n)
	}
	if h := Hash(e); h != e.Hash {
		return evidock.Errorf(evidock.EUNVERIFIED, "audit event %d (%s %s by %s at %s): its content does not match its hash: the row was changed",
			e.Seq, e.Action, e.Object, e.Actor, e.Time.In(evidock.ChinaTime).Format(time.RFC3339))
	}
	c.n, c.head = e.Seq, e.Hash
	return nil
}

// Store is the audit log as a store keeps it.
type Store interface {
	evidock.AuditService
	// ReadAuditChain returns up to limit events with Seq > after, in Seq
	// order, exactly as stored.
	ReadAuditChain(ctx context.Context, after int64, limit int) ([]*evidock.AuditEvent, error)
}

// verifyBatch is how many events VerifyStore reads at once.
const verifyBatch = 1000

// VerifyStore reads the whole audit log of s and recomputes its chain. It
// returns the number of events and the last one's hash if every event
// checks, EUNVERIFIED naming the first event that does not, or the store's
// error. If check is not nil it is called with the chain after every event,
// so that a caller can compare the chain at a checkpoint's size.
func VerifyStore(ctx context.Context, s Store, check func(c *Chain) error) (int64, evidock.LogHash, error) {
	var c Chain
	for {
		events, err := s.ReadAuditChain(ctx, c.Size(), verifyBatch)
		if err != nil {
			return c.Size(), c.Head(), fmt.Errorf("audit verify: %w", err)
		}
		for _, e := range events {
			if err := c.Add(e); err != nil {
				return c.Size(), c.Head(), err
			}
			if check != nil {
				if err := check(&c); err != nil {
					return c.Size(), c.Head(), err
				}
			}
		}
		if len(events) < verifyBatch {
			return c.Size(), c.Head(), nil
		}
	}
}

// checkpointHeader is the first line of an audit checkpoint's text.
const checkpointHeader = "evidock audit chain"

// Checkpoint is the state of the audit chain at one size.
type Checkpoint struct {
	Origin string // the name of the key that signs it
	Size   int64
	Head   evidock.LogHash // the hash of event Size; zero when Size is 0
}

// Text returns the checkpoint's note text.
func (c Checkpoint) Text() string {
	return checkpointHeader + "\n" + c.Origin + "\n" + strconv.FormatInt(c.Size, 10) + "\n" + c.Head.String() + "\n"
}

// Sign returns c as a note signed by signer, whose name becomes c's origin.
func Sign(signer note.Signer, c Checkpoint) ([]byte, error) {
	c.Origin = signer.Name()
	msg, err := note.Sign(&note.Note{Text: c.Text()}, signer)
	if err != nil {
		return nil, fmt.Errorf("sign audit checkpoint: %w", err)
	}
	return msg, nil
}

// SignSkey is Sign with a note signing key (as translog.ReadSigningKey
// returns it); EINVALID if skey is not one.
func SignSkey(skey string, c Checkpoint) ([]byte, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, evidock.WrapError(evidock.EINVALID, err, "audit checkpoint: the signing key is not a note signing key")
	}
	return Sign(signer, c)
}

// Open verifies that signed is an audit checkpoint signed by the key vkey
// and returns it. It returns EINVALID for an unusable key and EUNVERIFIED
// for a note not signed by it, a bad signature or text that is not an
// audit checkpoint of that key (a registry checkpoint, say).
func Open(vkey string, signed []byte) (Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return Checkpoint{}, evidock.WrapError(evidock.EINVALID, err, "audit checkpoint: %q is not a note verifier key", vkey)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var invalid *note.InvalidSignatureError
		if errors.As(err, &invalid) {
			return Checkpoint{}, evidock.WrapError(evidock.EUNVERIFIED, err, "audit checkpoint: the signature does not verify: the checkpoint was altered or forged")
		}
		return Checkpoint{}, evidock.WrapError(evidock.EUNVERIFIED, err, "audit checkpoint: not signed by the log key %s: %v", v.Name(), err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 5 || lines[0] != checkpointHeader || lines[4] != "" {
		return Checkpoint{}, evidock.Errorf(evidock.EUNVERIFIED, "audit checkpoint: the note is not an audit checkpoint (%q, size, head)", checkpointHeader)
	}
	c := Checkpoint{Origin: lines[1]}
	if c.Origin != v.Name() {
		return Checkpoint{}, evidock.Errorf(evidock.EUNVERIFIED, "audit checkpoint: origin %q is not the key's name %q", c.Origin, v.Name())
	}
	if c.Size, err = strconv.ParseInt(lines[2], 10, 64); err != nil || c.Size < 0 || strconv.FormatInt(c.Size, 10) != lines[2] {
		return Checkpoint{}, evidock.Errorf(evidock.EUNVERIFIED, "audit checkpoint: size %q is not a number of events", lines[2])
	}
	if c.Head, err = evidock.ParseLogHash(lines[3]); err != nil {
		return Checkpoint{}, evidock.Errorf(evidock.EUNVERIFIED, "audit checkpoint: head: %s", evidock.ErrorMessage(err))
	}
	return c, nil
}

// Matches returns nil if the chain checked so far passes through cp: when
// it has cp.Size events, its head is cp.Head. It returns EUNVERIFIED
// otherwise. Call it from VerifyStore's check, or after, with a chain of
// exactly cp.Size events.
func (cp Checkpoint) Matches(c *Chain) error {
	if c.Size() == cp.Size && c.Head() != cp.Head {
		return evidock.Errorf(evidock.EUNVERIFIED, "audit checkpoint of %d events: the log's event %d has hash %s, the checkpoint says %s: the log was rewritten after the checkpoint was signed",
			cp.Size, cp.Size, c.Head(), cp.Head)
	}
	return nil
}

const hexDigits = "0123456789ABCDEF"

// escape percent-encodes s as the package comment describes.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x21 && c <= 0x7e && c != '%' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}
