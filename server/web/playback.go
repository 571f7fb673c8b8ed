package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"evidock"
)

// Playback is audited once per playback, not per range request. A browser
// plays a clip with many HTTP range requests (dozens for a ten-minute
// video); auditing each as a view would flood the audit log with events
// that say nothing new. So the clip page, when it authorizes and audits the
// view, gives the player a playback ticket in the video URL
// (/clips/{blake3}/video?t=TICKET): an HMAC-SHA256, under a secret the
// database keeps for every server instance (SecretStore), over the clip, the
// user and an expiry PlaybackTicketTTL ahead. A range request with a valid
// ticket for its clip and its session's user is authorized again (a grant
// may have run out since the page was opened; a disabled user is refused)
// but not audited again; a refusal is audited. A ticket for another clip or
// user, a forged one or an expired one is refused (403, audited). A request
// without a ticket is authorized and audited as a view, as before.

// PlaybackTicketTTL is how long a playback ticket is good for when
// Config.PlaybackTTL is zero: long enough to watch a recorder's longest
// file with pauses, short enough that a copied URL soon stops working.
const PlaybackTicketTTL = time.Hour

// PlaybackSecretName is the name of the ticket key in the SecretStore.
const PlaybackSecretName = "web_playback_ticket_v1"

// SecretStore keeps secrets that every server instance on one database
// shares; the SQLite and PostgreSQL stores are ones.
type SecretStore interface {
	// ServerSecret returns the secret called name, created on first use,
	// or the store's error.
	ServerSecret(ctx context.Context, name string) ([]byte, error)
}

// errBadTicket is why a ticket is refused.
var errBadTicket = errors.New("playback ticket")

// tickets issues and checks playback tickets.
type tickets struct {
	store SecretStore
	ttl   time.Duration

	mu  sync.Mutex
	key []byte
}

// keyOf returns the ticket key, read from the store once.
func (t *tickets) keyOf(ctx context.Context) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.key != nil {
		return t.key, nil
	}
	key, err := t.store.ServerSecret(ctx, PlaybackSecretName)
	if err != nil {
		return nil, fmt.Errorf("web: playback ticket key: %w", err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("web: playback ticket key is %d bytes, want 32", len(key))
	}
	t.key = key
	return key, nil
}

// mac returns the MAC of a ticket for clip d, user and expiry.
func ticketMAC(key []byte, d evidock.Digest, userID int64, expiry int64) []byte {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "evidock playback ticket v1\nclip %s\nuser %d\nexpires %d\n", d, userID, expiry)
	return m.Sum(nil)
}

// issue returns a ticket for user to play clip d until now plus the TTL.
func (t *tickets) issue(ctx context.Context, d evidock.Digest, userID int64, now time.Time) (string, error) {
	key, err := t.keyOf(ctx)
	if err != nil {
		return "", err
	}
	expiry := now.Add(t.ttl).Unix()
	return strconv.FormatInt(expiry, 10) + "." + base64.RawURLEncoding.EncodeToString(ticketMAC(key, d, userID, expiry)), nil
}

// check returns nil if ticket is one issued for user to play clip d and
// not expired at now; an error wrapping errBadTicket, saying why, if not;
// and the store's error if the key cannot be read.
func (t *tickets) check(ctx context.Context, ticket string, d evidock.Digest, userID int64, now time.Time) error {
	exp, sig, ok := strings.Cut(ticket, ".")
	expiry, err := strconv.ParseInt(exp, 10, 64)
	mac, merr := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || merr != nil {
		return fmt.Errorf("%w is malformed: reload the clip page", errBadTicket)
	}
	key, err := t.keyOf(ctx)
	if err != nil {
		return err
	}
	// Clip and user are inside the MAC: a ticket of another clip or user
	// fails here, as a forged one does.
	if !hmac.Equal(mac, ticketMAC(key, d, userID, expiry)) {
		return fmt.Errorf("%w is not for this clip and user: open the clip page to play it", errBadTicket)
	}
	if !now.Before(time.Unix(expiry, 0)) {
		return fmt.Errorf("%w expired at %s: reload the clip page", errBadTicket, time.Unix(expiry, 0).In(evidock.ChinaTime).Format(time.RFC3339))
	}
	return nil
}
