package device

import (
	"fmt"
	"os"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal standing in for a recorder's USB serial port: a
// simulated device serves on Master, and a client opens Path as it would
// open /dev/ttyACM0, with go.bug.st/serial or as a plain file.
type PTY struct {
	Master *os.File
	Path   string   // of the terminal end, e.g. /dev/pts/3
	tty    *os.File // held open, or the master reads EIO between clients
}

// OpenPTY opens a pseudo-terminal in raw mode, so that bytes pass unchanged:
// no echo, no line editing, no CR/LF translation, no XON/XOFF. It returns an
// error wrapping ErrNoPTY if the system has none (no /dev/ptmx).
func OpenPTY() (*PTY, error) {
	m, t, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("open pty: %w: %w", ErrNoPTY, err)
	}
	if err := makeRaw(int(t.Fd())); err != nil {
		m.Close()
		t.Close()
		return nil, fmt.Errorf("open pty: raw mode: %w", err)
	}
	// pty.Open has called Fd, which leaves the master blocking: a Read
	// would then outlive Close. A non-blocking duplicate goes through Go's
	// poller, so Close and deadlines end a blocked Read.
	master, err := pollable(m)
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("open pty: %w", err)
	}
	return &PTY{Master: master, Path: t.Name(), tty: t}, nil
}

// pollable returns a non-blocking duplicate of f and closes f.
func pollable(f *os.File) (*os.File, error) {
	defer f.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// Drain waits until the client has read everything the device wrote, or
// timeout passes: closing the master discards what is still unread, so a
// device that leaves (for mass storage, say) drains first. The kernel moves
// written bytes to the terminal's input queue a moment after the write
// returns, so Drain first gives it that moment.
func (p *PTY) Drain(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	time.Sleep(50 * time.Millisecond)
	for time.Now().Before(deadline) {
		n, err := unix.IoctlGetInt(int(p.tty.Fd()), unix.TIOCINQ)
		if err != nil || n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Close closes both ends; a client that still has Path open gets EOF or EIO.
func (p *PTY) Close() error {
	err := p.Master.Close()
	if terr := p.tty.Close(); err == nil {
		err = terr
	}
	return err
}

// makeRaw sets the terminal as cfmakeraw(3) does.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
