package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"evidock"
	"evidock/internal/cli"
	"evidock/s3"
	"evidock/server"
	"evidock/server/audit"
	"evidock/server/auth"
	evhttp "evidock/server/http"
	"evidock/server/translog"
)

// AuthConfig says how people log in; see package server/auth.
type AuthConfig struct {
	// CookieSecure marks the session cookie Secure, so that browsers send
	// it only over https. Turn it off only to demo over plain http.
	CookieSecure bool `yaml:"cookie_secure"`
	// SessionTTL ends every session this long after login.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// IdleTimeout ends a session unused this long.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxFailuresPerLogin and MaxFailuresPerAddress are the failed logins
	// allowed per login name and per client address in FailureWindow;
	// counted in the database, so all servers sharing it agree.
	MaxFailuresPerLogin   int           `yaml:"max_failures_per_login"`
	MaxFailuresPerAddress int           `yaml:"max_failures_per_address"`
	FailureWindow         time.Duration `yaml:"failure_window"`
	// TrustedOrigins are origins (https://host[:port]), separated by
	// spaces, whose pages may post to the API across origins; normally
	// none. (A string, not a list, so that Config stays comparable.)
	TrustedOrigins string `yaml:"trusted_origins"`
}

// DefaultAuthConfig returns auth.DefaultPolicy with Secure cookies.
func DefaultAuthConfig() AuthConfig {
	p := auth.DefaultPolicy
	return AuthConfig{CookieSecure: true, SessionTTL: p.SessionTTL, IdleTimeout: p.IdleTimeout,
		MaxFailuresPerLogin: p.MaxFailuresPerLogin, MaxFailuresPerAddress: p.MaxFailuresPerAddr, FailureWindow: p.FailureWindow}
}

// Policy returns the settings as an auth.Policy.
func (a *AuthConfig) Policy() auth.Policy {
	return auth.Policy{SessionTTL: a.SessionTTL, IdleTimeout: a.IdleTimeout, MaxFailuresPerLogin: a.MaxFailuresPerLogin,
		MaxFailuresPerAddr: a.MaxFailuresPerAddress, FailureWindow: a.FailureWindow, Params: auth.DefaultParams}
}

// Validate returns an error naming the first bad auth setting and its fix.
func (a *AuthConfig) Validate() error {
	switch {
	case a.SessionTTL < time.Minute:
		return fmt.Errorf("auth.session_ttl %v is too short: set at least 1m (default %v)", a.SessionTTL, auth.DefaultPolicy.SessionTTL)
	case a.IdleTimeout < time.Minute || a.IdleTimeout > a.SessionTTL:
		return fmt.Errorf("auth.idle_timeout %v: set 1m to auth.session_ttl (default %v)", a.IdleTimeout, auth.DefaultPolicy.IdleTimeout)
	case a.MaxFailuresPerLogin < 1:
		return fmt.Errorf("auth.max_failures_per_login %d: set at least 1 (default %d)", a.MaxFailuresPerLogin, auth.DefaultPolicy.MaxFailuresPerLogin)
	case a.MaxFailuresPerAddress < 1:
		return fmt.Errorf("auth.max_failures_per_address %d: set at least 1 (default %d)", a.MaxFailuresPerAddress, auth.DefaultPolicy.MaxFailuresPerAddr)
	case a.FailureWindow < time.Minute:
		return fmt.Errorf("auth.failure_window %v is too short: set at least 1m (default %v)", a.FailureWindow, auth.DefaultPolicy.FailureWindow)
	}
	for _, o := range strings.Fields(a.TrustedOrigins) {
		if !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
			return fmt.Errorf("auth.trusted_origins: %q is not an origin like https://ui.bureau.example", o)
		}
	}
	return nil
}

// peopleConfig returns what the HTTP server needs for logins, access
// requests and the audit API.
func peopleConfig(cfg AuthConfig, db store, objects *s3.Store) (*evhttp.PeopleConfig, error) {
	svc, err := auth.New(db, cfg.Policy())
	if err != nil {
		return nil, err
	}
	return &evhttp.PeopleConfig{Auth: svc, Access: db, Audit: db, Scope: server.NewRegistryScope(db, db, db),
		Objects: objects, CookieSecure: cfg.CookieSecure, TrustedOrigins: strings.Fields(cfg.TrustedOrigins)}, nil
}

// UnitFlags are the flags of 'unit add'.
type UnitFlags struct {
	Code, Name, Level, Parent string
}

// addUnit adds a unit to the bureau's tree, so that roles can be held in
// it: the bureau first (no --parent), then its districts and their units.
func (m *Main) addUnit(ctx context.Context) error {
	f := m.Unit
	if f.Code == "" || f.Level == "" {
		return cli.Usagef("unit add: --code and --level are required, e.g. --code CZ --name 常州市人社局 --level bureau")
	}
	u := &evidock.Unit{Code: f.Code, Name: f.Name, Level: evidock.UnitLevel(f.Level), ParentCode: f.Parent}
	if u.Name == "" {
		u.Name = u.Code
	}
	if err := u.Validate(); err != nil {
		return cli.Usage(fmt.Errorf("unit add: %s", evidock.ErrorMessage(err)))
	}
	if err := m.openDatabase(ctx); err != nil {
		return err
	}
	ev := &evidock.AuditEvent{Actor: "system:" + osUser(), Action: evidock.AuditCreateUnit,
		Reason: "evidock-server unit add", RemoteAddr: "local", UserAgent: "evidock-server " + version(), Outcome: evidock.AuditAllowed}
	if err := m.db.CreateUnit(ctx, u, ev); err != nil {
		if code := evidock.ErrorCode(err); code == evidock.EINVALID || code == evidock.ECONFLICT {
			return cli.Usage(fmt.Errorf("unit add: %s", evidock.ErrorMessage(err)))
		}
		return fmt.Errorf("unit add: %w", err)
	}
	path, err := server.NewUnitPaths(m.db).Path(ctx, u.Code)
	if err != nil {
		return fmt.Errorf("unit add: %w", err)
	}
	fmt.Fprintf(m.Stdout, "unit %s (%s, %s) created; roles in it are held in unit path %s\n", u.Code, u.Name, u.Level, path)
	return nil
}

// UserFlags are the flags of 'user add'.
type UserFlags struct {
	Login, Name, OfficerNo string
	// Roles and Units pair up: the i-th --role is held in the i-th --unit.
	Roles, Units stringList
	// PasswordFile holds the password; without it, it is read from
	// standard input. Never from the command line, which others can see.
	PasswordFile string
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// addUser creates a user with the password from a file or standard input.
func (m *Main) addUser(ctx context.Context) error {
	f := m.User
	switch {
	case f.Login == "":
		return cli.Usagef("user add: --login is required, e.g. --login admin")
	case len(f.Roles) == 0:
		return cli.Usagef("user add: --role and --unit are required, e.g. --role administrator --unit city")
	case len(f.Roles) != len(f.Units):
		return cli.Usagef("user add: give one --unit for each --role (%d roles, %d units)", len(f.Roles), len(f.Units))
	}
	u := &evidock.User{Login: f.Login, Name: f.Name, OfficerNo: f.OfficerNo}
	if u.Name == "" {
		u.Name = u.Login
	}
	for i, r := range f.Roles {
		u.Roles = append(u.Roles, evidock.RoleAssignment{Role: evidock.Role(r), Unit: f.Units[i]})
	}
	if err := u.Validate(); err != nil {
		return cli.Usage(fmt.Errorf("user add: %s", evidock.ErrorMessage(err)))
	}
	password, err := m.readPassword()
	if err != nil {
		return err
	}
	if err := auth.ValidatePassword(password); err != nil {
		return cli.Usage(fmt.Errorf("user add: %s", evidock.ErrorMessage(err)))
	}
	if err := m.openDatabase(ctx); err != nil {
		return err
	}
	svc, err := auth.New(m.db, m.Config.Auth.Policy())
	if err != nil {
		return err
	}
	ev := &evidock.AuditEvent{Actor: "system:" + osUser(), Action: evidock.AuditCreateUser, Unit: evidock.CommonUnit(u.Units()),
		Reason: "evidock-server user add", RemoteAddr: "local", UserAgent: "evidock-server " + version(), Outcome: evidock.AuditAllowed}
	if err := svc.CreateUser(ctx, u, password, ev); err != nil {
		if code := evidock.ErrorCode(err); code == evidock.EINVALID || code == evidock.ECONFLICT {
			return cli.Usage(fmt.Errorf("user add: %s", evidock.ErrorMessage(err)))
		}
		return fmt.Errorf("user add: %w", err)
	}
	var roles []string
	for _, a := range u.Roles {
		roles = append(roles, a.String())
	}
	fmt.Fprintf(m.Stdout, "user %s (%s) created with roles %s\n", u.Login, u.Name, strings.Join(roles, ", "))
	return nil
}

// readPassword returns the password from --password-file, or the first line
// of standard input.
func (m *Main) readPassword() (string, error) {
	var r io.Reader = m.Stdin
	if p := m.User.PasswordFile; p != "" {
		f, err := os.Open(p)
		if err != nil {
			return "", cli.Usage(fmt.Errorf("user add: --password-file: %w", err))
		}
		defer f.Close()
		r = f
	} else if fi, ok := m.Stdin.(*os.File); ok {
		if st, err := fi.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintln(m.Stderr, "password (it will show as you type; pipe it in or use --password-file to avoid that):")
		}
	}
	line, err := bufio.NewReader(io.LimitReader(r, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("user add: read the password: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", cli.Usagef("user add: no password given: write it to standard input or to the --password-file")
	}
	return line, nil
}

// osUser names who ran the command, for the audit log.
func osUser() string {
	for _, v := range []string{"USER", "USERNAME"} {
		if u := os.Getenv(v); u != "" {
			return u
		}
	}
	return "unknown"
}

// AuditFlags are the flags of 'audit verify' and 'audit checkpoint'.
type AuditFlags struct {
	// Checkpoint is a signed audit checkpoint the log must pass through
	// (verify), or the file to write one to (checkpoint).
	Checkpoint string
	// KeyFile is the log's public verifier key, for verify; without it,
	// the key is derived from log.signing_key_file, or read from the .pub
	// beside it.
	KeyFile string
}

// auditVerify recomputes the audit log's hash chain from the database and,
// with --checkpoint, checks that it passes through a checkpoint signed
// earlier.
func (m *Main) auditVerify(ctx context.Context) error {
	var cp *audit.Checkpoint
	if m.Audit.Checkpoint != "" {
		vkey, err := m.logVerifierKey()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(m.Audit.Checkpoint)
		if err != nil {
			return cli.Usage(fmt.Errorf("audit verify: --checkpoint: %w", err))
		}
		c, err := audit.Open(vkey, b)
		if err != nil {
			return fmt.Errorf("audit verify: %s: %w", m.Audit.Checkpoint, err)
		}
		cp = &c
	}
	if err := m.openDatabase(ctx); err != nil {
		return err
	}
	var check func(*audit.Chain) error
	if cp != nil {
		check = cp.Matches
	}
	n, head, err := audit.VerifyStore(ctx, m.db, check)
	if err != nil {
		return fmt.Errorf("audit verify: %w (the first %d events verify)", err, n)
	}
	if cp != nil && n < cp.Size {
		return evidock.Errorf(evidock.EUNVERIFIED, "audit verify: the checkpoint covers %d events but the log has only %d: events were removed", cp.Size, n)
	}
	fmt.Fprintf(m.Stdout, "audit log verified: %d events, head %s\n", n, head)
	if cp != nil {
		fmt.Fprintf(m.Stdout, "it passes through the checkpoint of %d events in %s\n", cp.Size, m.Audit.Checkpoint)
	}
	return nil
}

// auditCheckpoint verifies the audit log and writes a checkpoint of it,
// signed with the log key, to a new file: keep it where the database's
// administrators cannot change it, and pass it to a later 'audit verify'.
func (m *Main) auditCheckpoint(ctx context.Context) error {
	if m.Audit.Checkpoint == "" {
		return cli.Usagef("audit checkpoint: --checkpoint FILE is required: the signed checkpoint is written there")
	}
	skey, err := translog.ReadSigningKey(m.Config.Log.SigningKeyFile)
	if err != nil {
		return cli.Usage(fmt.Errorf("audit checkpoint: %w", err))
	}
	if err := m.openDatabase(ctx); err != nil {
		return err
	}
	n, head, err := audit.VerifyStore(ctx, m.db, nil)
	if err != nil {
		return fmt.Errorf("audit checkpoint: the log does not verify, so no checkpoint is signed: %w", err)
	}
	signed, err := audit.SignSkey(skey, audit.Checkpoint{Size: n, Head: head})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(m.Audit.Checkpoint, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	_, err = f.Write(signed)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(m.Audit.Checkpoint)
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	fmt.Fprintf(m.Stdout, "audit checkpoint of %d events (head %s) written to %s\n", n, head, m.Audit.Checkpoint)
	return nil
}

// logVerifierKey returns the verifier key of --key, or of the configured
// log key.
func (m *Main) logVerifierKey() (string, error) {
	if m.Audit.KeyFile != "" {
		vkey, err := translog.ReadVerifierKey(m.Audit.KeyFile)
		if err != nil {
			return "", cli.Usage(fmt.Errorf("audit verify: --key: %w", err))
		}
		return vkey, nil
	}
	skey, err := translog.ReadSigningKey(m.Config.Log.SigningKeyFile)
	if err != nil {
		if vkey, verr := translog.ReadVerifierKey(m.Config.Log.SigningKeyFile + ".pub"); verr == nil {
			return vkey, nil
		}
		return "", cli.Usage(fmt.Errorf("audit verify: %w", err))
	}
	return translog.VerifierKey(skey)
}

// openDatabase checks the database settings and opens the store into m.db.
func (m *Main) openDatabase(ctx context.Context) error {
	if err := m.Config.Database.ResolveSecrets(); err != nil {
		return cli.Usage(fmt.Errorf("config %s: %w", m.configName(), err))
	}
	if err := m.Config.ValidateDatabase(); err != nil {
		return cli.Usage(fmt.Errorf("config %s: %w", m.configName(), err))
	}
	db, _, err := m.openStore(ctx, m.Config.Database)
	if err != nil {
		return err
	}
	m.db = db
	return nil
}
