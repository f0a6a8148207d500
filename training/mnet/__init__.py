"""MNet training (``python -m training.mnet``): contrastive encoder pretraining, then decoder + GAN."""
