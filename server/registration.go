package server

import (
	"context"

	"evidock"
)

// registrationBatchMax bounds the clips a store registers in one
// transaction.
const registrationBatchMax = 64

// Registration is one RegisterClip call waiting in a store's batch: the
// clip, and once its batch has run, what became of it.
type Registration struct {
	Clip    *evidock.Clip
	Created bool
	Err     error
}

// Registrations is a store's queue of RegisterClip calls: calls that arrive
// together are registered in one transaction (group commit, see Batcher).
type Registrations struct {
	batcher *Batcher[*Registration]
}

// NewRegistrations returns the queue of a store whose registerTx registers
// a batch in one transaction: it fills in each Registration's outcome only
// once the transaction has committed, and returns the error that stopped
// the transaction. A batch whose transaction fails is registered again one
// clip per transaction, so that one clip's fault (an unknown station aborts
// a whole PostgreSQL transaction) reaches only its own caller.
func NewRegistrations(registerTx func(ctx context.Context, batch []*Registration) error) *Registrations {
	return &Registrations{batcher: NewBatcher(registrationBatchMax, func(ctx context.Context, batch []*Registration) {
		err := registerTx(ctx, batch)
		if err == nil {
			return
		}
		if len(batch) == 1 {
			batch[0].Err = err
			return
		}
		for _, r := range batch {
			if err := registerTx(ctx, []*Registration{r}); err != nil {
				r.Err = err
			}
		}
	})}
}

// Register validates c with ValidateClip and registers it with the next
// batch; it returns whether c is new, and the error of the validation, of
// the registration, or ctx's.
func (q *Registrations) Register(ctx context.Context, c *evidock.Clip) (bool, error) {
	if err := ValidateClip(c); err != nil {
		return false, err
	}
	r := &Registration{Clip: c}
	if err := q.batcher.Do(ctx, r); err != nil {
		return false, evidock.WrapError(evidock.EUNAVAILABLE, err, "register clip %s: %v", c.Digest, err)
	}
	return r.Created, r.Err
}

// SizeConflict returns the ECONFLICT error for clip c whose digest is
// stored with another size, or nil if the sizes agree.
func SizeConflict(c, stored *evidock.Clip) error {
	if stored.Size == c.Size {
		return nil
	}
	return evidock.Errorf(evidock.ECONFLICT,
		"clip %s is registered with %d bytes, not %d: the same digest cannot have two sizes, so one of the uploads is damaged",
		c.Digest, stored.Size, c.Size)
}
