"""Plain PyTorch training of ORNet and MNet by imitative contrastive learning (runtime never imports this)."""
