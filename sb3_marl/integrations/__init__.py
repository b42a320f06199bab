"""Integrations with experiment trackers. Each imports its tracker only when used."""

from sb3_marl.integrations.wandb import MultiAgentWandbCallback, WandbOutputFormat, init_wandb

__all__ = ["MultiAgentWandbCallback", "WandbOutputFormat", "init_wandb"]
