package auth_test

import (
	"strings"
	"testing"

	"evidock"
	"evidock/server/auth"
)

func TestPassword(t *testing.T) {
	const pw = "correct horse battery staple"
	h1, err := auth.HashPassword(pw, auth.TestParams)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := auth.HashPassword(pw, auth.TestParams)
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h1, pw) {
		t.Fatalf("hash %q is not a PHC argon2id string", h1)
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{
		{pw, true},
		{pw + " ", false},
		{strings.ToUpper(pw), false},
		{"", false},
	} {
		if ok, err := auth.VerifyPassword(h1, tt.pw); ok != tt.want || err != nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
	// The default cost, once.
	hd, err := auth.HashPassword(pw, auth.DefaultParams)
	if err != nil || !strings.HasPrefix(hd, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("default hash = %q, %v", hd, err)
	}
	if ok, _ := auth.VerifyPassword(hd, pw); !ok {
		t.Fatal("default hash does not verify")
	}
}

func TestPasswordRefused(t *testing.T) {
	for _, pw := range []string{"", "short", "123456789", strings.Repeat("x", auth.MaxPasswordLen+1), "long enough\xff"} {
		if _, err := auth.HashPassword(pw, auth.TestParams); evidock.ErrorCode(err) != evidock.EINVALID {
			t.Errorf("HashPassword(%.20q) = %v; want EINVALID", pw, err)
		}
	}
	// Ten characters, not ten bytes: 十个汉字 is enough.
	if _, err := auth.HashPassword("一二三四五六七八九十", auth.TestParams); err != nil {
		t.Errorf("ten Chinese characters: %v", err)
	}
}

func TestVerifyMalformedHash(t *testing.T) {
	for _, h := range []string{
		"",
		"plain",
		"$2a$10$abcdefghijklmnopqrstuu", // bcrypt
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$aGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
	} {
		if ok, err := auth.VerifyPassword(h, "correct horse battery staple"); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want an error", h, ok, err)
		}
	}
}
