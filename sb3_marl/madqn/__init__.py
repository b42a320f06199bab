from sb3_marl.madqn.madqn import MADQN
from sb3_marl.madqn.policies import CnnPolicy, MADQNPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["MADQN", "CnnPolicy", "MADQNPolicy", "MlpPolicy", "MultiInputPolicy"]
