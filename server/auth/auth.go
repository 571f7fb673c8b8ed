// Package auth logs people in to the case server: argon2id password hashes,
// sessions kept in the database, and limits on failed logins that every
// server instance sharing the database agrees on.
//
// A session is a random 256-bit token, sent to the browser in a cookie and
// stored only as its SHA-256, so that a copy of the database opens no
// session. A session ends at its absolute expiry (Policy.SessionTTL) or after
// Policy.IdleTimeout without use, whichever is first, at logout, and when its
// user is disabled.
//
// Failed logins are counted in the database, per login name and per client
// address, in fixed windows of Policy.FailureWindow: a login name with
// MaxFailuresPerLogin failures, or an address with MaxFailuresPerAddr, is
// refused (ERATELIMITED) without its password being checked until the
// window has passed. Counting in memory would let an attacker spread guesses
// over the instances behind a load balancer; the database is what they
// share. A good login clears its name's count, not its address's.
//
// Every login, failed login, refusal and logout is appended to the audit
// log.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"time"

	"evidock"
)

// Session is one logged-in browser.
type Session struct {
	// TokenHash is the SHA-256 of the session's token; the token itself is
	// never stored.
	TokenHash  [sha256.Size]byte
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	RemoteAddr string
	UserAgent  string
}

// Store is what the service needs of the database; the SQLite and the
// PostgreSQL stores provide it.
type Store interface {
	evidock.UserService
	evidock.AuditService

	// CreateUser stores u with the password hash and fills in its ID and
	// CreatedAt, appending ev (Object set to the user) to the audit log
	// in the same transaction. It returns EINVALID for an invalid user and
	// ECONFLICT if the login is taken.
	CreateUser(ctx context.Context, u *evidock.User, passwordHash string, ev *evidock.AuditEvent) error
	// UserCredentials returns the user with login and their password
	// hash, or ENOTFOUND.
	UserCredentials(ctx context.Context, login string) (*evidock.User, string, error)

	// CreateSession stores s.
	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns the session whose token has the hash, or
	// ENOTFOUND.
	FindSession(ctx context.Context, hash [sha256.Size]byte) (*Session, error)
	// TouchSession sets the session's LastSeenAt to at.
	TouchSession(ctx context.Context, hash [sha256.Size]byte, at time.Time) error
	// DeleteSession removes the session, if it exists.
	DeleteSession(ctx context.Context, hash [sha256.Size]byte) error

	// LoginFailures returns the failures counted under each of keys in
	// windows that started at or after since; a key without any is
	// missing from the map.
	LoginFailures(ctx context.Context, keys []string, since time.Time) (map[string]int, error)
	// RecordLoginFailure counts one failure at time at under each of
	// keys, starting a new window for a key whose window started before
	// windowStart.
	RecordLoginFailure(ctx context.Context, keys []string, at, windowStart time.Time) error
	// ClearLoginFailures forgets the failures counted under key.
	ClearLoginFailures(ctx context.Context, key string) error
}

// Policy sets how long sessions last and how many failed logins are allowed.
type Policy struct {
	SessionTTL          time.Duration // absolute lifetime of a session
	IdleTimeout         time.Duration // a session unused this long ends
	MaxFailuresPerLogin int           // failures per login name per window
	MaxFailuresPerAddr  int           // failures per client address per window
	FailureWindow       time.Duration
	Params              Params // argon2id cost of new password hashes
}

// DefaultPolicy is a working day's session, ended by half an hour idle, and
// five failures per login name (fifty per address, for a shared office NAT)
// per quarter hour.
var DefaultPolicy = Policy{
	SessionTTL:          12 * time.Hour,
	IdleTimeout:         30 * time.Minute,
	MaxFailuresPerLogin: 5,
	MaxFailuresPerAddr:  50,
	FailureWindow:       15 * time.Minute,
	Params:              DefaultParams,
}

// Validate returns an error naming the first unusable setting.
func (p Policy) Validate() error {
	switch {
	case p.SessionTTL <= 0:
		return fmt.Errorf("session ttl must be positive, e.g. 12h")
	case p.IdleTimeout <= 0 || p.IdleTimeout > p.SessionTTL:
		return fmt.Errorf("session idle timeout must be positive and at most the session ttl, e.g. 30m")
	case p.MaxFailuresPerLogin <= 0 || p.MaxFailuresPerAddr <= 0:
		return fmt.Errorf("the failed-login limits must be positive, e.g. 5 per login and 50 per address")
	case p.FailureWindow <= 0:
		return fmt.Errorf("the failed-login window must be positive, e.g. 15m")
	case p.Params.Time == 0 || p.Params.MemoryKiB < 8 || p.Params.Threads == 0:
		return fmt.Errorf("the argon2id parameters must be positive")
	}
	return nil
}

// touchEvery is how stale LastSeenAt may grow before a request updates it:
// the idle timeout is minutes, so a write per request would be waste.
const touchEvery = time.Minute

// Client says where a request came from, for the audit log and the limits.
type Client struct {
	RemoteAddr string // host:port, as the server saw it
	UserAgent  string
}

// addr returns the client's address without the port.
func (c Client) addr() string {
	if host, _, err := net.SplitHostPort(c.RemoteAddr); err == nil {
		return host
	}
	return c.RemoteAddr
}

// Service logs users in and out and finds the user of a session. It keeps no
// state of its own, so any number of server instances may share a database.
type Service struct {
	store  Store
	policy Policy
	now    func() time.Time
	// dummy is a hash that no password matches, checked for unknown
	// logins so that they take as long as known ones.
	dummy string
}

// New returns a service over store with policy p. It returns an error if p
// is unusable or the random source fails.
func New(store Store, p Policy) (*Service, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	dummy, err := HashPassword(base64.RawURLEncoding.EncodeToString(b), p.Params)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Service{store: store, policy: p, now: time.Now, dummy: dummy}, nil
}

// SetClock makes the service read the time from now; tests use it to end
// sessions and windows without waiting.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Policy returns the service's policy.
func (s *Service) Policy() Policy { return s.policy }

// Store returns the service's store.
func (s *Service) Store() Store { return s.store }

// CreateUser validates u and password, hashes the password and stores the
// user, appending ev to the audit log with it. It returns EINVALID for a bad
// user or password and ECONFLICT for a login that is taken.
func (s *Service) CreateUser(ctx context.Context, u *evidock.User, password string, ev *evidock.AuditEvent) error {
	if err := u.Validate(); err != nil {
		return err
	}
	hash, err := HashPassword(password, s.policy.Params)
	if err != nil {
		return err
	}
	return s.store.CreateUser(ctx, u, hash, ev)
}

// Login is a successful login: the user and the session's token, to be
// sent to the client once and never stored.
type Login struct {
	User      *evidock.User
	Token     string
	ExpiresAt time.Time
}

// SessionTokenPrefix starts every session token, so that a leaked one is
// recognisable.
const SessionTokenPrefix = "evd_ss_"

// NewSessionToken returns a fresh random session token and its hash, or an
// error if the random source fails.
func NewSessionToken() (string, [sha256.Size]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", [sha256.Size]byte{}, fmt.Errorf("new session token: %w", err)
	}
	token := SessionTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashSessionToken(token), nil
}

// HashSessionToken returns the SHA-256 of token, the form in which sessions
// are stored and found.
func HashSessionToken(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// errBadLogin is the one answer to a wrong login name or password, so that
// nobody learns which logins exist.
func errBadLogin() error {
	return evidock.Errorf(evidock.EUNAUTHORIZED, "wrong login or password")
}

// Login checks login and password and opens a session. It returns
// EUNAUTHORIZED for a wrong login or password or a disabled user,
// ERATELIMITED when the login name or the client's address has failed too
// often lately (without checking the password), and the store's errors.
// Every outcome is audited; if the audit cannot be written, the login
// fails.
func (s *Service) Login(ctx context.Context, login, password string, c Client) (*Login, error) {
	now := s.now()
	ev := &evidock.AuditEvent{Time: now, Actor: "login:" + login, Action: evidock.AuditLogin, Object: "session",
		RemoteAddr: c.RemoteAddr, UserAgent: c.UserAgent}
	loginKey, addrKey := "login:"+login, "addr:"+c.addr()
	counts, err := s.store.LoginFailures(ctx, []string{loginKey, addrKey}, now.Add(-s.policy.FailureWindow))
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if counts[loginKey] >= s.policy.MaxFailuresPerLogin || counts[addrKey] >= s.policy.MaxFailuresPerAddr {
		// Filed under the user's unit, if the name is a user's, so that
		// their supervisors see the guessing.
		if u, err := s.store.FindUserByLogin(ctx, login); err == nil {
			ev.Actor, ev.Unit = "user:"+u.Login, evidock.CommonUnit(u.Units())
		}
		ev.Outcome, ev.Reason = evidock.AuditDenied, "too many failed logins"
		if err := s.store.AppendAudit(ctx, ev); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		return nil, evidock.Errorf(evidock.ERATELIMITED, "too many failed logins for this login or from this address: wait %s and try again", s.policy.FailureWindow)
	}

	user, hash, err := s.store.UserCredentials(ctx, login)
	switch {
	case evidock.ErrorCode(err) == evidock.ENOTFOUND || evidock.ValidateLogin(login) != nil:
		hash = s.dummy
	case err != nil:
		return nil, fmt.Errorf("login: %w", err)
	}
	ok, err := VerifyPassword(hash, password)
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", login, err)
	}
	if user != nil {
		ev.Actor, ev.Unit = "user:"+user.Login, evidock.CommonUnit(user.Units())
	}
	if !ok || user == nil {
		if err := s.store.RecordLoginFailure(ctx, []string{loginKey, addrKey}, now, now.Add(-s.policy.FailureWindow)); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		ev.Outcome, ev.Reason = evidock.AuditFailed, "wrong login or password"
		if err := s.store.AppendAudit(ctx, ev); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		return nil, errBadLogin()
	}
	if user.Disabled {
		ev.Outcome, ev.Reason = evidock.AuditDenied, "user is disabled"
		if err := s.store.AppendAudit(ctx, ev); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		return nil, evidock.Errorf(evidock.EUNAUTHORIZED, "user %s is disabled: ask an administrator", user.Login)
	}
	if err := s.store.ClearLoginFailures(ctx, loginKey); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	token, hashed, err := NewSessionToken()
	if err != nil {
		return nil, err
	}
	now = now.Truncate(time.Microsecond)
	sess := &Session{TokenHash: hashed, UserID: user.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.policy.SessionTTL), RemoteAddr: c.RemoteAddr, UserAgent: c.UserAgent}
	// The event first: a session nobody recorded must not exist.
	ev.Outcome = evidock.AuditAllowed
	if err := s.store.AppendAudit(ctx, ev); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return &Login{User: user, Token: token, ExpiresAt: sess.ExpiresAt}, nil
}

// errNoSession is the answer for a token that opens nothing.
func errNoSession(why string) error {
	return evidock.Errorf(evidock.EUNAUTHORIZED, "%s: log in again", why)
}

// Authenticate returns the user whose session token is token and the
// session. It returns EUNAUTHORIZED if there is no such session, if it has
// expired or been idle too long (and removes it), or if its user is
// disabled; and the store's errors.
func (s *Service) Authenticate(ctx context.Context, token string) (*evidock.User, *Session, error) {
	if token == "" {
		return nil, nil, errNoSession("no session")
	}
	hash := HashSessionToken(token)
	sess, err := s.store.FindSession(ctx, hash)
	if evidock.ErrorCode(err) == evidock.ENOTFOUND {
		return nil, nil, errNoSession("the session has ended or never existed")
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	switch {
	case !now.Before(sess.ExpiresAt):
		s.store.DeleteSession(ctx, hash) // best effort: it opens nothing either way
		return nil, nil, errNoSession("the session has expired")
	case now.Sub(sess.LastSeenAt) >= s.policy.IdleTimeout:
		s.store.DeleteSession(ctx, hash)
		return nil, nil, errNoSession(fmt.Sprintf("the session ended after %s without use", s.policy.IdleTimeout))
	}
	user, err := s.store.FindUserByID(ctx, sess.UserID)
	if err != nil {
		return nil, nil, err
	}
	if user.Disabled {
		s.store.DeleteSession(ctx, hash)
		return nil, nil, errNoSession(fmt.Sprintf("user %s is disabled", user.Login))
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := s.store.TouchSession(ctx, hash, now.Truncate(time.Microsecond)); err != nil {
			return nil, nil, err
		}
		sess.LastSeenAt = now
	}
	return user, sess, nil
}

// Logout ends the session of token, if any, and audits it. It returns the
// store's errors; an unknown token is not an error.
func (s *Service) Logout(ctx context.Context, token string, c Client) error {
	hash := HashSessionToken(token)
	sess, err := s.store.FindSession(ctx, hash)
	if evidock.ErrorCode(err) == evidock.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	ev := &evidock.AuditEvent{Time: s.now(), Action: evidock.AuditLogout, Object: "session", Outcome: evidock.AuditAllowed,
		RemoteAddr: c.RemoteAddr, UserAgent: c.UserAgent}
	if u, err := s.store.FindUserByID(ctx, sess.UserID); err == nil {
		ev.Actor, ev.Unit = "user:"+u.Login, evidock.CommonUnit(u.Units())
	} else {
		ev.Actor = fmt.Sprintf("user-id:%d", sess.UserID)
	}
	if err := s.store.DeleteSession(ctx, hash); err != nil {
		return err
	}
	return s.store.AppendAudit(ctx, ev)
}
