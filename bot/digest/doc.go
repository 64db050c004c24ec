// Package digest is the morning summary of a night of experiments: Build
// computes it from the records (kept improvements, crashes, cost, open
// ideas, the progress chart), Digest.Text and ThreadTexts word it in Slack
// mrkdwn that also reads as plain text, NewMessage shapes it as a channel
// message with its thread, and Scheduler posts one each day at the set
// time, catching up after downtime without posting twice.
package digest
