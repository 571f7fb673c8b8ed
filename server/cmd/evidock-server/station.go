package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"evidock"
	"evidock/internal/cli"
)

// addStation creates a station and writes its token to the token file. The
// file is created (exclusively) before the station, so that a station is
// never created whose token has nowhere to go, and an existing file, which
// may hold another station's token, is never overwritten.
func (m *Main) addStation(ctx context.Context) error {
	st := m.Station
	switch {
	case st.ID == "":
		return cli.Usagef("station add: --id is required, e.g. --id dock-01")
	case st.TokenFile == "":
		return cli.Usagef("station add: --token-file is required: the new token is written there, never printed")
	}
	if err := m.Config.Database.ResolveSecrets(); err != nil {
		return cli.Usage(fmt.Errorf("config %s: %w", m.configName(), err))
	}
	if err := m.Config.ValidateDatabase(); err != nil {
		return cli.Usage(fmt.Errorf("config %s: %w", m.configName(), err))
	}
	if st.Name == "" {
		st.Name = st.ID
	}

	if dir := filepath.Dir(st.TokenFile); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("station add: %w", err)
		}
	}
	f, err := os.OpenFile(st.TokenFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("station add: token file %s exists already and may hold another station's token: remove it or choose another --token-file", st.TokenFile)
	}
	if err != nil {
		return fmt.Errorf("station add: %w", err)
	}
	written := false
	defer func() {
		f.Close()
		if !written {
			os.Remove(st.TokenFile)
		}
	}()

	db, _, err := m.openStore(ctx, m.Config.Database)
	if err != nil {
		return err
	}
	m.db = db
	s := &evidock.Station{ID: st.ID, Name: st.Name}
	token, err := db.CreateStation(ctx, s)
	if err != nil {
		if code := evidock.ErrorCode(err); code == evidock.EINVALID || code == evidock.ECONFLICT {
			return cli.Usage(fmt.Errorf("station add: %s", evidock.ErrorMessage(err)))
		}
		return fmt.Errorf("station add: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err == nil {
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		// The token is lost with the file: it is stored nowhere else.
		return fmt.Errorf("station add: station %s was created but its token could not be written to %s (%v): add a station with another --id", s.ID, st.TokenFile, err)
	}
	written = true
	fmt.Fprintf(m.Stdout, "station %s (%s) created; its token is in %s, readable only by you: copy that file to the docking PC and point the agent at it\n",
		s.ID, s.Name, st.TokenFile)
	return nil
}

// revokeStation revokes the station --id names and prints when: from then
// on its token is refused. An unknown station is a usage error (exit 2),
// like a taken ID for 'station add'.
func (m *Main) revokeStation(ctx context.Context) error {
	id := m.Station.ID
	if id == "" {
		return cli.Usagef("station revoke: --id is required: the id the station was added with, e.g. --id dock-01")
	}
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
	at, err := db.RevokeStation(ctx, id)
	if err != nil {
		if evidock.ErrorCode(err) == evidock.ENOTFOUND {
			return cli.Usage(fmt.Errorf("station revoke: %s", evidock.ErrorMessage(err)))
		}
		return fmt.Errorf("station revoke: %w", err)
	}
	fmt.Fprintf(m.Stdout, "station %s revoked at %s: its token is refused from now on; its clips are kept. A docking PC that replaces it needs a new station: evidock-server station add\n",
		id, at.In(evidock.ChinaTime).Format(time.RFC3339))
	return nil
}
