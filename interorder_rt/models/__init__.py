"""Networks: ORNet (order recovery by mask completion) and MNet (content completion)."""
