package slack

import (
	"sync"
	"time"
)

// replayGuard remembers the signed requests already handled, so that a
// captured request sent again inside the signature window (the same
// signature and timestamp) is answered once. An entry is needed only while
// its timestamp passes verifySignature, so it is forgotten after twice the
// window from when it was seen, which bounds the memory by the request
// rate; max bounds it outright.
type replayGuard struct {
	mu    sync.Mutex
	seen  map[string]struct{}
	queue []replayEntry // in the order seen, so expiry is in order too
	keep  time.Duration
	max   int
}

// maxReplayEntries bounds the replay guard: far above what one channel's
// commands, events and clicks make in ten minutes.
const maxReplayEntries = 100_000

type replayEntry struct {
	key    string
	expiry time.Time
}

func newReplayGuard(window time.Duration, max int) *replayGuard {
	return &replayGuard{seen: map[string]struct{}{}, keep: 2 * window, max: max}
}

// first records the request (signature, timestamp) seen at now. It says
// whether this is the first time; full is true when the guard is at its
// bound even after forgetting what expired (the request is then refused:
// better a retry from Slack than a replay let through).
func (g *replayGuard) first(sig, ts string, now time.Time) (first, full bool) {
	key := ts + ":" + sig
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.queue) > 0 && !now.Before(g.queue[0].expiry) {
		delete(g.seen, g.queue[0].key)
		g.queue[0] = replayEntry{}
		g.queue = g.queue[1:]
	}
	if _, ok := g.seen[key]; ok {
		return false, false
	}
	if len(g.seen) >= g.max {
		return false, true
	}
	g.seen[key] = struct{}{}
	g.queue = append(g.queue, replayEntry{key: key, expiry: now.Add(g.keep)})
	return true, false
}
