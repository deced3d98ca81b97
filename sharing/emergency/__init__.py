"""Emergency access (compare Bitwarden's): the owner names a trusted person who may ask for
their papers (view) or to choose a new passphrase for them (take over). The owner's keys are
sealed to the trusted person's key at set-up; the server hands them over only when the
owner's waiting period (1 to 30 days) has passed after a request the owner did not refuse."""
