package slacktest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode: every websocket the bot opens arrives on Conns. A test
// either drives a connection itself, or calls TakeOverSockets once so the
// fake greets every connection (reconnects included), answers pings,
// collects acknowledgements and sends envelopes to the live one.

// socket is the taken-over Socket Mode connection.
type socket struct {
	conn *websocket.Conn
	wmu  *sync.Mutex // serializes writes to conn
	acks chan string // envelope IDs the bot acknowledged
	gen  int         // connections taken over so far
}

func (f *Server) upgrade(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		f.t.Errorf("websocket upgrade: %v", err)
		return
	}
	f.conns <- c
}

// Conns delivers each Socket Mode connection the bot opens, for tests
// that speak the protocol themselves.
func (f *Server) Conns() <-chan *websocket.Conn { return f.conns }

// TakeOverSockets greets and serves every connection from now on.
func (f *Server) TakeOverSockets() {
	f.mu.Lock()
	f.socket.acks = make(chan string, 256)
	f.mu.Unlock()
	go func() {
		for c := range f.conns {
			f.takeOver(c)
		}
	}()
}

func (f *Server) closeSocket() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.socket.conn != nil {
		f.socket.conn.Close()
	}
}

func (f *Server) takeOver(c *websocket.Conn) {
	wmu := &sync.Mutex{}
	f.mu.Lock()
	f.socket.conn, f.socket.wmu = c, wmu
	acks := f.socket.acks
	f.mu.Unlock()
	go func() {
		for {
			var a struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if err := c.ReadJSON(&a); err != nil {
				return
			}
			if a.EnvelopeID != "" {
				acks <- a.EnvelopeID
			}
		}
	}()
	// Slack pings; slack-go reconnects when it hears nothing for a while.
	go func() {
		for {
			time.Sleep(2 * time.Second)
			wmu.Lock()
			err := c.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
			wmu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	wmu.Lock()
	_ = c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1})
	wmu.Unlock()
	f.mu.Lock()
	f.socket.gen++
	f.mu.Unlock()
}

// Generation counts the connections taken over so far.
func (f *Server) Generation() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.socket.gen
}

// AcceptAfter waits until a connection newer than generation gen is live.
func (f *Server) AcceptAfter(gen int) {
	f.t.Helper()
	deadline := time.Now().Add(Patience)
	for f.Generation() <= gen {
		if time.Now().After(deadline) {
			f.t.Fatal("the bot never opened a Socket Mode connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Send writes v to the live connection.
func (f *Server) Send(v any) {
	f.t.Helper()
	f.mu.Lock()
	c, wmu := f.socket.conn, f.socket.wmu
	f.mu.Unlock()
	wmu.Lock()
	err := c.WriteJSON(v)
	wmu.Unlock()
	if err != nil {
		f.t.Fatalf("websocket write: %v", err)
	}
}

// Envelope sends a Socket Mode envelope and waits for its ack.
func (f *Server) Envelope(typ, id string, payload any) {
	f.t.Helper()
	f.Send(map[string]any{"type": typ, "envelope_id": id, "payload": payload, "accepts_response_payload": typ != "events_api"})
	f.mu.Lock()
	acks := f.socket.acks
	f.mu.Unlock()
	deadline := time.After(Patience)
	for {
		select {
		case got := <-acks:
			if got == id {
				return
			}
		case <-deadline:
			f.t.Fatalf("envelope %s was never acknowledged", id)
		}
	}
}

// Slash sends `/autoresearch TEXT` as user in channel, through Socket
// Mode; Answer(id) is its ephemeral answer.
func (f *Server) Slash(id, user, channel, text string) {
	f.t.Helper()
	f.Envelope("slash_commands", id, map[string]any{
		"command": "/autoresearch", "text": text, "user_id": user, "channel_id": channel,
		"response_url": f.srv.URL + "/respond/" + id, "trigger_id": "trig-" + id,
	})
}

// Answer waits for the answer to slash command id and returns its text.
func (f *Server) Answer(id string) string {
	f.t.Helper()
	c := f.WaitFor("the answer to "+id, "response_url", func(c Call) bool { return c.Path == "/respond/"+id })
	return c.Text()
}

// Reply sends a person's thread reply as an Events API message event.
func (f *Server) Reply(eventID, channel, user, text, ts, threadTS string) {
	f.t.Helper()
	f.Envelope("events_api", "env-"+eventID, map[string]any{
		"type": "event_callback", "event_id": eventID,
		"event": map[string]any{"type": "message", "channel": channel, "user": user,
			"text": text, "ts": ts, "thread_ts": threadTS},
	})
}

// BlockTexts decodes the Block Kit JSON of a posted message and joins its
// texts, one per line ("" when it has none).
func (c Call) BlockTexts() string {
	if c.Form == nil {
		return ""
	}
	s, _ := BlockTexts(c.Form.Get("blocks"))
	return s
}

// BlockTexts joins every "text" string in Block Kit JSON, one per line.
func BlockTexts(raw string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return "", err
	}
	var texts []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "text" {
					texts = append(texts, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return strings.Join(texts, "\n"), nil
}
