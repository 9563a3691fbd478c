"""Digests: what happened in the areas a member watches and on the research agenda, emailed daily
or weekly at the member's chosen local hour.

A digest covers the time since the member's previous one (the first: the last day or week). It
lists titles and links, never post bodies, so nothing hidden, deleted or waiting for review can
leak; topics the member may not read (restricted, under embargo), muted topics and merged-away
topics are left out. Sending goes through the outbox (forum/services/outbox.py): the row for
(member, period) is created before anything is built, so each period is emailed at most once.

The package: ``schedule`` (when a digest is due and what it covers), ``news`` (the part every
member's digest shares), ``content`` (what one member's lists) and ``sending`` (rendering,
previewing and sending the email).
"""
