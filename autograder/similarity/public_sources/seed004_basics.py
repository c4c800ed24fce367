# Seed 004 (../shared/seeds/004_4f4a685628545f4e.txt): its gradient-descent loop (the lines between
# "# 梯度下降" and "# 输出最终参数", verbatim but for the per-100-iteration print), wrapped in the
# course's `gradient_descent(X, y, lr, num_iterations)` (tensors in and out); its `cutout_pil_multi`
# and its `CNNmodel` verbatim.
from PIL import Image
import numpy as np
import random
import torch
from torch import nn


def gradient_descent(X, y, lr, num_iterations):
    X, y = X.tolist(), y.tolist()
    w = [0.0, 0.0, 0.0]  # w0, w1, w2
    for i in range(num_iterations):
        # 预测值
        y_pred = [w[0] + w[1] * x[0] + w[2] * x[1] for x in X]
        # 计算损失
        loss = sum((y_pred[j] - y[j]) ** 2 for j in range(len(y))) / len(y)
        # 计算梯度
        grad_w0 = 2 * sum(y_pred[j] - y[j] for j in range(len(y))) / len(y)
        grad_w1 = 2 * sum((y_pred[j] - y[j]) * X[j][0] for j in range(len(y))) / len(y)
        grad_w2 = 2 * sum((y_pred[j] - y[j]) * X[j][1] for j in range(len(y))) / len(y)
        # 更新参数
        w[0] -= lr * grad_w0
        w[1] -= lr * grad_w1
        w[2] -= lr * grad_w2
    return torch.tensor(w, dtype=torch.float64)


def cutout_pil_multi(image, mask_size=50, num_masks=3):
    """
    对图像应用多个 Cutout 遮挡块
    参数:
    - image: PIL.Image 对象
    - mask_size: 每个遮挡块的大小(正方形边长)
    - num_masks: 遮挡块的数量
    """
    image_np = np.array(image).copy()
    h, w = image_np.shape[0], image_np.shape[1]
    for _ in range(num_masks):
        y = random.randint(0, h - 1)
        x = random.randint(0, w - 1)
        y1 = max(0, y - mask_size // 2)#防止变为负数
        y2 = min(h, y + mask_size // 2)#防止溢出
        x1 = max(0, x - mask_size // 2)
        x2 = min(w, x + mask_size // 2)
        # 遮挡区域设置为黑色
        image_np[y1:y2, x1:x2, :] = 0
    return Image.fromarray(image_np)


class CNNmodel(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            
            nn.Conv2d(64, 128, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            
            nn.Conv2d(128,1,1),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Sigmoid()
        )
    def forward(self, x):
        return self.model(x)
