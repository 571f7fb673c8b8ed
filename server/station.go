package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"evidock"
)

// StationTokenPrefix starts every station token, so that a token pasted into
// the wrong place is recognisable (and findable by secret scanners).
const StationTokenPrefix = "evd_st_"

// stationTokenBytes is the token's entropy: 256 bits cannot be guessed, so a
// plain hash lookup is enough to authenticate and no salt or slow hash is
// needed.
const stationTokenBytes = 32

// MaxStationIDLen bounds a station ID; IDs appear in logs, object metadata and
// file names.
const MaxStationIDLen = 64

// MaxStationNameLen bounds a station's display name.
const MaxStationNameLen = 200

// NewStationToken returns a fresh random station token and its hash, which is
// all a store may keep. It returns an error only if the system's random
// source fails.
func NewStationToken() (token string, hash [sha256.Size]byte, err error) {
	b := make([]byte, stationTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", hash, fmt.Errorf("new station token: %w", err)
	}
	token = StationTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashStationToken(token), nil
}

// HashStationToken returns the SHA-256 of token, the form in which stores keep
// and look up station tokens, so that a copy of the database cannot be used
// to impersonate a station.
func HashStationToken(token string) [sha256.Size]byte {
	return sha256.Sum256([]byte(token))
}

// ValidateStation returns an EINVALID error naming the first bad field of s:
// the ID must be 1 to 64 letters, digits, '.', '_' or '-', starting with a
// letter or digit (e.g. "dock-01"), and the name at most 200 bytes.
//
// It belongs with evidock.Station; it lives here until the domain has it.
func ValidateStation(s *evidock.Station) error {
	switch {
	case s.ID == "":
		return evidock.Errorf(evidock.EINVALID, "station: id is required, e.g. dock-01")
	case len(s.ID) > MaxStationIDLen:
		return evidock.Errorf(evidock.EINVALID, "station: id is %d bytes long, at most %d allowed", len(s.ID), MaxStationIDLen)
	case !isAlnum(s.ID[0]):
		return evidock.Errorf(evidock.EINVALID, "station: id %q must start with a letter or digit", s.ID)
	case len(s.Name) > MaxStationNameLen:
		return evidock.Errorf(evidock.EINVALID, "station: name is %d bytes long, at most %d allowed", len(s.Name), MaxStationNameLen)
	}
	for i := 0; i < len(s.ID); i++ {
		if c := s.ID[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return evidock.Errorf(evidock.EINVALID, "station: id %q may hold only letters, digits, '.', '_' and '-'", s.ID)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
