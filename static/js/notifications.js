// The notifications page (templates/activity/notifications.html).
import { notificationsPage } from "./activity/notifications-page.js";

const root = document.getElementById("notifications-page");
if (root) notificationsPage(root);
