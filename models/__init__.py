"""Architectures only: ct_cnn, gain_mtl, rgb_ae, vlm, vlg."""
