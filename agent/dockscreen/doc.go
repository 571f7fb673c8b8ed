// Package dockscreen is what officers see at the dock: a page the docking PC
// shows full screen, with every docked recorder, how far its footage has
// come and, in large coloured letters, whether it is safe to unplug and why.
//
// The page is rendered on the server from an agent.DockStatus and refreshed
// by a small embedded script that fetches the server-rendered panel once a
// second; without JavaScript a meta refresh does the same. Nothing is loaded
// from outside the dock: styles and script are embedded, fonts are the
// system's. Text is Chinese (zh-CN) by default and English with ?lang=en.
//
// The same View is printed in a terminal by WriteText, which is what
// "evidock-agent status" shows, and Client reads a running dock screen's
// /api/status so that the terminal can show the live state.
package dockscreen
