// Package mrkdwn is Slack's text markup as the bot writes it: text from
// anyone escaped so it can never mention, link or broadcast; the mentions
// and links the bot means to make; and inbound text decoded once. The Slack
// front end and the digest (whose texts Slack shows) both use it.
package mrkdwn
