// Package slack is the Slack front end: Socket Mode and HTTP (signed
// requests, replay guard), slash commands, events and thread replies,
// buttons and the message shortcut, modals (program.md editor, idea
// pinning), App Home, the review gate, the messages an experiment and a
// run get (Block Kit built here), and the outbox worker that delivers
// every message in order, also after a restart. Commands are carried out
// by the one dispatcher in package bot; this package parses and words
// them for Slack. Serve runs it around a loop with the digest scheduler,
// and CheckSetup is doctor's Slack check.
package slack
