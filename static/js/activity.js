// The activity page (templates/activity/activity.html).
import { activityPage } from "./activity/log-page.js";

const root = document.getElementById("activity-page");
if (root) activityPage(root);
