"""Safety for someone leaving a violent partner: the emergency reset ends every way in to the
wallet in one transaction (other sessions, links, grants to people and organisations, mandates),
covered by the owner's signed vault head like a one-by-one revoke. It sits above sharing/
(it ends what sharing gave) and below the pages."""
