// Package bot is the chat side of autoresearch. Commands are parsed once
// (bot/command) and carried out by one dispatcher, a handler per command
// (dispatch*.go), whose Reply every front end words its own way: the Slack
// front end here (Socket Mode and HTTP, blocks, buttons, the message
// shortcut, App Home, the review gate, the outbox that delivers its
// messages), and the terminal in bot/terminal. The digest and the chart are
// built here too. Tests that need Slack share the fake in bot/slacktest.
package bot
