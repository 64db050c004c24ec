package slack

import (
	"container/list"
	"sort"
	"sync"
)

// dedupe remembers the last n event IDs, so an event Slack retries (it does
// when an ack is slow or lost, in both HTTP and Socket Mode) is handled once.
type dedupe struct {
	mu    sync.Mutex
	n     int
	order *list.List // oldest first
	set   map[string]*list.Element
}

func newDedupe(n int) *dedupe {
	return &dedupe{n: n, order: list.New(), set: map[string]*list.Element{}}
}

// first reports whether id is seen for the first time, and remembers it.
// An empty id cannot be checked and always counts as new.
func (d *dedupe) first(id string) bool {
	if id == "" {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.set[id]; ok {
		return false
	}
	d.set[id] = d.order.PushBack(id)
	if d.order.Len() > d.n {
		oldest := d.order.Front()
		d.order.Remove(oldest)
		delete(d.set, oldest.Value.(string))
	}
	return true
}

// has reports whether id was seen, without remembering it.
func (d *dedupe) has(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.set[id]
	return ok
}

func sortStrings(s []string) { sort.Strings(s) }
