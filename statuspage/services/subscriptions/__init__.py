"""Subscribers and their subscriptions: double opt-in, preferences, unsubscribe, MPOC import,
the staff's Manage API, and the confirmations and pauses of the other channels.

Rules enforced here:
- nothing but the confirmation is sent to an address until it confirms; a subscribe
  request behaves the same whether or not the address is known (no enumeration);
- links carry signed tokens (itsdangerous): they cannot be forged or guessed, confirmation
  links expire, and links stop working when the subscriber's token version is raised;
- unsubscribing raises the token version (every manage, unsubscribe and confirmation link
  mailed before dies) and forgets the confirmation: coming back needs a fresh opt-in;
- a confirmation link is confirmed by a POST from its page, never by fetching it (mail
  scanners fetch links); confirmation mails to one address are throttled in the database;
- contacts imported from an organisation's MPOC list are confirmed by the import; a bad row
  is reported and never stops the good ones.

One module per part, each importing only those before it:
- `validation`: the fields every way in checks (language, zone, address, channel,
  platforms, topics);
- `links`: the signed links a subscriber is given (manage, unsubscribe, calendar) and the
  expiring tokens of the others;
- `signup`: subscribing an address its owner proves, its opt-in (a link, or a code to type)
  within the address's allowance, and confirming it;
- `preferences`: what the manage and unsubscribe links change;
- `mpoc`: the import of an organisation's MPOC contact list;
- `staff_api`: CSS staff adding, unsubscribing and mailing addresses (the Manage API);
- `channel_signup`: subscribing an endpoint (a webhook, a chat channel) or an address of
  another channel, and the endpoint's verification;
- `pauses`: an address left out of notices (quarantined after failures, stopped by its
  recipient) and a provider's word on a message it took.
"""
