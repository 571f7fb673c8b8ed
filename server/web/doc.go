// Package web is the case server's web UI: server-rendered pages for
// logging in, cases, clips with in-browser playback, access requests and
// their approval, and the audit log.
//
// Every page is rendered with html/template from embedded templates and
// assets, under a strict Content-Security-Policy (default-src 'self', no
// inline script), so that it works on a network without internet. Users
// log in with the same auth.Service and session cookie as the JSON API;
// what they may see and do is decided by evidock.Authorize, and every
// decision is appended to the audit log, as the API does. State-changing
// forms are protected by http.CrossOriginProtection and the SameSite=Strict
// session cookie.
//
// The UI speaks zh-CN by default and English with ?lang=en (remembered in
// a cookie); the strings of each language are in one table in text.go.
package web
