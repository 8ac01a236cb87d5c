/*
 * The chat page (/): the visitor's conversation (conversation/conversation.js),
 * mounted on #app with the settings of #sohbet-config. The widget's panel mounts the
 * same component.
 */
import { readConfig } from "./lib/util.js";
import { mountConversation } from "./conversation/conversation.js";

mountConversation(document.getElementById("app"), readConfig("sohbet-config"));
