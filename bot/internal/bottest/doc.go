// Package bottest holds what the bot packages' tests share and nothing
// else imports: golden files drawn at phone width (Golden, PhoneRender,
// AsShown) and a log that collects recovered panics from many goroutines
// (LockedLog). The fake Slack is bot/slacktest.
package bottest
