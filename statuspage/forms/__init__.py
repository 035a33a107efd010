"""Every form of the pages (Flask-WTF: CSRF on every one). Field names match the services'
error keys; the services check the values, the forms carry them.

- `fields`: what several forms share: the multi-checkbox field and the datetime-local
  input (wall-clock time in the provider's zone) read and written;
- `staff`: sign-in, incidents, platforms, users and API tokens, and the confirmable forms
  every staff page uses;
- `maintenance`: unscheduled work, windows, their status and release notes, series;
- `subscribers`: the MPOC import's upload and confirmation;
- `subscriptions`: the public subscribe, code, confirmation and manage pages.
"""
