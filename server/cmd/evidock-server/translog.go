package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"evidock"
	"evidock/internal/cli"
	"evidock/server/translog"
)

// LogKeyFlags are the flags of 'log keygen'.
type LogKeyFlags struct {
	Origin, PrivateKeyFile, PublicKeyFile string
}

// catchUpInterval is how often serve appends to the transparency log any
// registered clip missing from it. This server appends every clip it
// registers in the same transaction; clips go missing only when a server
// too old to keep the log registers them, during a rolling upgrade.
const catchUpInterval = 10 * time.Minute

// logKeygen writes a new signing key and its verifier key to the files the
// flags name; neither may exist.
func (m *Main) logKeygen() error {
	k := m.LogKey
	switch {
	case k.Origin == "":
		return cli.Usagef("log keygen: --origin is required: the log's name, e.g. --origin %s", translog.DefaultOrigin)
	case k.PrivateKeyFile == "":
		return cli.Usagef("log keygen: --private-key-file is required: the signing key is written there (mode 0600), never printed")
	}
	if k.PublicKeyFile == "" {
		k.PublicKeyFile = k.PrivateKeyFile + ".pub"
	}
	skey, vkey, err := translog.GenerateKey(k.Origin)
	if err != nil {
		return cli.Usage(fmt.Errorf("log keygen: --origin: %s", evidock.ErrorMessage(err)))
	}
	if err := translog.WriteKeyFiles(k.PrivateKeyFile, k.PublicKeyFile, skey, vkey); err != nil {
		if code := evidock.ErrorCode(err); code == evidock.ECONFLICT || code == evidock.EINVALID {
			return cli.Usage(fmt.Errorf("log keygen: %s", evidock.ErrorMessage(err)))
		}
		return fmt.Errorf("log keygen: %w", err)
	}
	fmt.Fprintf(m.Stdout, `log key for %s created.
private signing key: %s (mode 0600): set log.signing_key_file to it, keep it secret and back it up;
  checkpoints it signed can be checked for ever, but no other key can extend the log
public verifier key: %s; give it to the docking stations and auditors:
%s
`, k.Origin, k.PrivateKeyFile, k.PublicKeyFile, vkey)
	return nil
}

// openLog returns the transparency log in db, signed with the key cfg
// names, creating the key if cfg allows and it does not exist. It returns
// a *cli.UsageError for a key that is missing, unusable or named other
// than cfg.Origin.
func (m *Main) openLog(cfg LogConfig, db translog.HashStore, logger *slog.Logger) (*translog.Log, error) {
	skey, err := translog.ReadSigningKey(cfg.SigningKeyFile)
	if errors.Is(err, fs.ErrNotExist) && cfg.CreateKey {
		origin := cfg.Origin
		if origin == "" {
			origin = translog.DefaultOrigin
		}
		var vkey string
		if skey, vkey, err = translog.GenerateKey(origin); err != nil {
			return nil, cli.Usage(fmt.Errorf("config %s: log.origin: %s", m.configName(), evidock.ErrorMessage(err)))
		}
		if err := translog.WriteKeyFiles(cfg.SigningKeyFile, cfg.SigningKeyFile+".pub", skey, vkey); err != nil {
			return nil, fmt.Errorf("create the log signing key: %w", err)
		}
		logger.Warn("created a new transparency log signing key (log.create_key is set): back it up, and give its public key to stations and auditors",
			"signing_key_file", cfg.SigningKeyFile, "public_key_file", cfg.SigningKeyFile+".pub")
	} else if errors.Is(err, fs.ErrNotExist) {
		return nil, cli.Usagef("config %s: log.signing_key_file %s does not exist: make it with 'evidock-server log keygen --origin ORIGIN --private-key-file %s', or restore it from backup",
			m.configName(), cfg.SigningKeyFile, cfg.SigningKeyFile)
	} else if err != nil {
		return nil, cli.Usage(fmt.Errorf("config %s: %w", m.configName(), err))
	}
	l, err := translog.New(db, skey)
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("config %s: log.signing_key_file %s: %s", m.configName(), cfg.SigningKeyFile, evidock.ErrorMessage(err)))
	}
	if cfg.Origin != "" && cfg.Origin != l.Origin() {
		return nil, cli.Usagef("config %s: log.origin is %q, but the key in %s is for %q: set log.origin to the key's name, or use that log's key",
			m.configName(), cfg.Origin, cfg.SigningKeyFile, l.Origin())
	}
	return l, nil
}

// catchUpLog appends the clips missing from the log every catchUpInterval
// until ctx ends, logging what it did; failures are logged
// and tried again, because a registration appends its own clip anyway.
func catchUpLog(ctx context.Context, l *translog.Log, logger *slog.Logger) {
	t := time.NewTicker(catchUpInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := l.CatchUp(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("transparency log: appending missing clips failed; trying again later", "err", err)
		case n > 0:
			logger.Info("transparency log: appended clips registered without it", "clips", n)
		}
	}
}
