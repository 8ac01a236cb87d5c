/*
 * The chat page (/): the visitor's conversation (conversation/conversation.js),
 * mounted on #app with the settings of #sohbet-config. The widget's panel mounts the
 * same component.
 */
import { readConfig } from "./lib/util.js";
import { mountConversation } from "./conversation/conversation.js";

import { mountVisitorPush } from "./conversation/push.js";

const config = readConfig("sohbet-config");
mountConversation(document.getElementById("app"), config);
mountVisitorPush(config);
