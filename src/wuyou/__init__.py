"""wuyou (无忧服务台): a chatbot-driven IT service desk for organisations with many branches."""

__version__ = "0.1.0"
