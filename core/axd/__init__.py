"""The AXD queue: one queue for every medium. ``selection`` decides who is offered what (rules,
skills, priorities, strategies); ``state`` changes it (offers, accepts, wrap-up, presence).
May import cases and the layers below it, never the workflow or intake."""
