"""The owner's signed vault head: its one stored copy per owner, the state it covers, and the
check that keeps each change and the head that covers it in one transaction."""
