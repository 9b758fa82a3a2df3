"""Web push alerts: VAPID keys, device subscriptions, alerts from events and deadlines, delivery."""
