// Package bot is the chat side of autoresearch, front-end neutral: the
// Controller it needs from the research loop and the one Dispatcher that
// carries out every parsed command (bot/command) with a handler per
// command (dispatch*.go) and returns a Reply each front end words its own
// way. The front ends and what they share live in sub-packages, which
// depend on this one and never the reverse:
//
//	bot/command    the command parser (pure)
//	bot/render     plain-text rendering shared by every front end
//	bot/terminal   the terminal front end
//	bot/slack      the Slack front end (and bot/slack/mrkdwn, its markup)
//	bot/digest     the morning digest and its scheduler
//	bot/chart      the progress chart PNG
//	bot/slacktest  the fake Slack every test that needs one shares
package bot
