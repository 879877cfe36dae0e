"""Erasure (`calendly-elt forget`): one module per place a person is removed from, and the audit.

- `emails`: the addresses as given, checked and normalized;
- `audit`: the `erasure` schema – the installation's salt, one row per erased person (a salted hash,
  never the address), the erased invitee URIs later extracts keep out;
- `rows`: the warehouse rows that name the person, in every table of every schema, with dlt's child rows;
- `dlt_files`: dlt's local load packages (they hold copies of rows);
- `brevo`, `calendly`: the two APIs' own deletions;
- `verify`: nothing left in the warehouse, the snapshot or dlt's state.
pipelines/forget.py runs them in order; docs/erasure.md says what is covered and what is not.
"""
