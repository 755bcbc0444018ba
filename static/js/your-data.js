// The settings page's "Your data" section (templates/vault/your_data.html): the personal export and import.
import { yourData } from "./vault/your-data.js";

const root = document.getElementById("your-data");
if (root) yourData(root);
