// Package render words the loop's records as plain text that every front
// end shares: an experiment's line, the status, the results table, ideas,
// a log tail, a progress bar, and the small helpers (duration, count,
// plural) that make a value read the same in the terminal, the channel and
// the digest. It knows no Slack markup (bot/slack/mrkdwn) and
// no chat: it imports only research.
package render
